"""The red-team probes of issue #19 (and the amounts of #15), one function per attack, grouped by family.

A probe returns when the system held (refused, detected or completed as the issue requires) and raises
ProbeFailed (or anything else) when the attack worked. Its verdicts are `check(...)` calls, never bare `assert`:
`python -O` strips asserts, and every probe would then look held. Each probe opens its own thread or its own
audit trail in the run's temporary data directory, so one broken probe cannot make another look held. The
test_redteam_* tests check the same attacks in more depth on SQLite and PostgreSQL; these are the standing tally
that `python -m app bench redteam` prints.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.types import Command

BIG = "I want a refund of $5,000 for order #55120, the TV arrived broken"
MID = "I want a refund of $900 for order #55120"
_ids = itertools.count(1)


@dataclass
class Ctx:
    data_dir: Path
    desk: Any  # app.desk.SupportDesk on data_dir
    quick: bool = False
    scratch: list[Path] = field(default_factory=list)

    def thread(self, prefix: str = "rt") -> str:
        return f"{prefix}-{next(_ids)}"


class ProbeFailed(AssertionError):
    """The attack worked. An AssertionError still, so whoever caught a failed probe's assert catches this too."""


def check(condition: object, detail: object = "") -> None:
    """A probe's verdict, kept under `python -O`. `detail` is built before the check, so it must be cheap and
    safe to build when the condition holds."""
    if not condition:
        raise ProbeFailed(str(detail) if detail != "" else "the attack worked")


def refused(call, *errors: type[BaseException], match: str = "") -> BaseException:
    """The error `call()` raised, which must be one of `errors` and mention `match`; ProbeFailed if accepted."""
    try:
        call()
    except errors as exc:
        check(match in str(exc), f"refused for another reason: {exc}")
        return exc
    raise ProbeFailed("accepted")


def _config(tid: str) -> dict:
    return {"configurable": {"thread_id": tid}}


def graph_resume(desk, tid: str, decision: dict) -> dict | None:
    """A resume sent straight to the graph, as Studio or the SDK do; the pending payload after it (None: decided)."""
    desk.graph.invoke(Command(resume={"decisions": [decision]}), _config(tid), context=desk.runner.context,
                      durability="sync")
    snap = desk.graph.get_state(_config(tid))
    return snap.interrupts[0].value if snap.interrupts else None


def tickets(desk, tid: str) -> list[dict]:
    return desk.services.tickets.list(thread_id=tid)


def events(desk, tid: str, event: str) -> list[dict]:
    return [e for e in desk.services.audit.entries(tid) if e["event"] == event]


def nested(depth: int) -> dict:
    top = node = {}
    for _ in range(depth):
        node["a"] = {}
        node = node["a"]
    return top


# ---- limits: an approval limit cannot be edited away ----------------------------------------------------------
def edit_refused(value: Any):
    def probe(ctx: Ctx) -> None:
        from agents.compliance.reviewers import ReviewerError
        from app.desk import ReviewPayloadError

        desk, tid = ctx.desk, ctx.desk.send(BIG, thread_id=ctx.thread()).thread_id
        refused(lambda: desk.edit(tid, reviewer="bo", args={"amount": value}), ReviewPayloadError)
        refused(lambda: desk.approve(tid, reviewer="sam"), ReviewerError)
        check(tickets(desk, tid) == [] and events(desk, tid, "review_decision") == [])
        check(desk.get(tid).pending_review["action_requests"][0]["args"]["amount"] == 5000)
    return probe


def limit_lowered_by_a_low_reviewer(ctx: Ctx) -> None:
    from agents.compliance.reviewers import ReviewerError

    tid = ctx.desk.send(BIG, thread_id=ctx.thread()).thread_id
    refused(lambda: ctx.desk.edit(tid, reviewer="bo", args={"amount": 300}), ReviewerError, match="approval limit")


def limit_graph_direct_nan(ctx: Ctx) -> None:
    tid = ctx.desk.send(MID, thread_id=ctx.thread()).thread_id
    pending = graph_resume(ctx.desk, tid, {"type": "edit", "reviewer": "ana", "token": "demo-ana", "edited_action": {
        "name": "refund", "args": {"order_id": "55120", "amount": math.nan, "currency": "USD"}}})
    check(pending and "amount" in pending["metadata"].get("error", ""), pending)
    check(tickets(ctx.desk, tid) == [])


# ---- concurrency: one writer per thread -----------------------------------------------------------------------
def refund_text(i: int) -> str:
    return f"Please refund ${20 + i} for order #{70000 + i}, it arrived broken."


def _each_told_its_own(desk, tid: str, results: list) -> None:
    check(all(not isinstance(r, BaseException) for r in results), results)
    by_id = {t["id"]: t for t in tickets(desk, tid)}
    check(len(by_id) == len(results), f"{len(by_id)} tickets for {len(results)} messages")
    for i, r in enumerate(results):
        check(r.ticket_id in by_id and f"order {70000 + i}" in r.answer, (i, r.answer))
        check(by_id[r.ticket_id]["action"]["args"]["order_id"] == str(70000 + i))


def concurrent_asends(ctx: Ctx) -> None:
    from app.desk import SupportDesk

    tid, n = ctx.thread("conc"), 6
    desk = SupportDesk(services=ctx.desk.services)

    async def main():
        try:
            sends = (desk.asend(refund_text(i), thread_id=tid, message_id=f"{tid}-m{i}") for i in range(n))
            return await asyncio.gather(*sends, return_exceptions=True)
        finally:
            await desk.aclose()

    _each_told_its_own(ctx.desk, tid, asyncio.run(main()))


def concurrent_os_threads(ctx: Ctx) -> None:
    from concurrent.futures import ThreadPoolExecutor

    tid = ctx.thread("conc")
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(ctx.desk.send, refund_text(i), tid, message_id=f"{tid}-m{i}") for i in range(4)]
        _each_told_its_own(ctx.desk, tid, [f.result() for f in futures])


def busy_thread_is_retryable(ctx: Ctx) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from app.desk import SupportDesk, ThreadBusyError

    tid, desk = ctx.thread("busy"), SupportDesk(services=ctx.desk.services, lock_timeout=0.3)
    try:
        with desk.runner.hold(tid), ThreadPoolExecutor(1) as pool:
            # A message id is one message on its channel (#25): each probe's ids are its own.
            error = pool.submit(lambda: refused(lambda: desk.send(refund_text(0), thread_id=tid,
                                                                  message_id=f"{tid}-m0"), ThreadBusyError)).result()
            check(error.retryable and not desk.runner.snapshot(tid).values)
        check(desk.send(refund_text(0), thread_id=tid, message_id=f"{tid}-m0").outcome == "ticket_created")
    finally:
        desk.close()


# ---- identity: a bare reviewer id is not proof ----------------------------------------------------------------
def bare_reviewer_id(ctx: Ctx) -> None:
    tid = ctx.desk.send(MID, thread_id=ctx.thread()).thread_id
    pending = graph_resume(ctx.desk, tid, {"type": "approve", "reviewer": "max"})
    check(pending and "is not proven" in pending["metadata"].get("error", ""), pending)
    check(tickets(ctx.desk, tid) == [] and [e["actor"] for e in events(ctx.desk, tid, "review_refused")] == [
        "unverified:max"])


def wrong_token(ctx: Ctx) -> None:
    tid = ctx.desk.send(MID, thread_id=ctx.thread()).thread_id
    pending = graph_resume(ctx.desk, tid, {"type": "approve", "reviewer": "max", "token": "demo-ana"})
    check(pending and "wrong token" in pending["metadata"].get("error", "") and tickets(ctx.desk, tid) == [])


def replayed_signature(ctx: Ctx) -> None:
    tid = ctx.desk.send(MID, thread_id=ctx.thread()).thread_id
    rid = ctx.desk.get(tid).pending_review["metadata"]["review_id"]
    forged = {"type": "approve", "reviewer": "max", "via": "operator-cli"}
    forged["signature"] = ctx.desk.services.sign_decision("another-thread", rid, forged)
    pending = graph_resume(ctx.desk, tid, forged)
    check(pending and "signature does not match" in pending["metadata"].get("error", ""))
    check(tickets(ctx.desk, tid) == [])


def graph_path_takes_the_claim(ctx: Ctx) -> None:
    svc, tid = ctx.desk.services, ctx.desk.send(MID, thread_id=ctx.thread()).thread_id
    rid = ctx.desk.get(tid).pending_review["metadata"]["review_id"]
    svc.claims.claim(tid, rid, "ana", "reject", "digest-of-anas-decision")
    pending = graph_resume(ctx.desk, tid, {"type": "approve", "reviewer": "bo", "token": "demo-bo"})
    check(pending and "being decided right now by ana" in pending["metadata"].get("error", ""))
    check(tickets(ctx.desk, tid) == [])


# ---- killed approvals are completed ---------------------------------------------------------------------------
def killed_before(node: str):
    def probe(ctx: Ctx) -> None:
        from app.review import door

        desk, svc = ctx.desk, ctx.desk.services
        tid = desk.send(MID, thread_id=ctx.thread()).thread_id
        steps = door.decide_steps(svc, tid, {"decisions": [{"type": "approve", "reviewer": "ana"}]})
        step = steps.send(desk.graph.get_state(next(steps).config))
        desk.graph.invoke(step.input, step.config, context=desk.runner.context, durability="sync",
                          interrupt_before=[node])
        steps.close()
        check(desk.graph.get_state(_config(tid)).next == (node,))
        r = desk.approve(tid, reviewer="bo")
        check(r.outcome == "ticket_created" and [t["id"] for t in tickets(desk, tid)] == [r.ticket_id])
        check([e["actor"] for e in events(desk, tid, "review_decision")] == ["reviewer:ana"])
    return probe


# ---- amounts: compared with limits in the policy currency, totals included ------------------------------------
def reviewed(text: str, rule: str = ""):
    def probe(ctx: Ctx) -> None:
        r = ctx.desk.send(text, thread_id=ctx.thread("amt"))
        check(r.pending_review, f"{r.outcome}: {r.answer[:120]}")
        got = r.pending_review["metadata"]["rule_id"]
        check(not rule or got == rule, got)
        check(tickets(ctx.desk, r.thread_id) == [])
    return probe


def reviewer_limit_in_base_currency(ctx: Ctx) -> None:
    """£1,800 is about $2,286: above bo's $2,000 limit, though 1,800 is below it."""
    from agents.compliance.reviewers import ReviewerError

    tid = ctx.desk.send("Please refund £1,800 for order #61010, it never arrived", thread_id=ctx.thread()).thread_id
    refused(lambda: ctx.desk.approve(tid, reviewer="bo"), ReviewerError, match="approval limit")
    check(ctx.desk.approve(tid, reviewer="max").outcome == "ticket_created")


def totals_per_thread(ctx: Ctx) -> None:
    tid = ctx.thread("total")
    first = ctx.desk.send("Please refund $400 for order #62001, it arrived broken.", thread_id=tid)
    check(first.outcome == "ticket_created", first.outcome)
    second = ctx.desk.send("Please refund $400 for order #62002, it arrived broken too.", thread_id=tid)
    check(second.pending_review and second.pending_review["metadata"]["rule_id"] == "refund-total-over-limit")
    check(len(tickets(ctx.desk, tid)) == 1)


def totals_per_order(ctx: Ctx) -> None:
    tid = ctx.thread("total")
    check(ctx.desk.send("Please refund $400 for order #63001.", thread_id=tid).outcome == "ticket_created")
    again = ctx.desk.send("I need another $450 refunded for the same order #63001.", thread_id=tid)
    check(again.pending_review, again.outcome)
