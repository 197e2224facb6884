"""Run scenarios through a SupportDesk and record what the system decided, turn by turn.

Each scenario gets its own thread (`eval-<run>-<id>`) and its customer id is namespaced by run,
so repeated runs against the same data directory don't feed each other's refund counts.
Paused threads are approved or rejected by a registered reviewer the caller names, or left pending.
An old-form scenario stops at a pause left pending or at an error, as it always has; a per-turn
scenario sends every turn (writing while a review waits is part of what it checks) and records
an error on the turn it happened.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from tqdm import tqdm

from agents.compliance.hitl import ReviewPayloadError
from agents.supervisor.conversation import MessageError
from app.eval.data import AnyScenario
from app.eval.observe import dedupe, new_tickets, observe, taxonomy_of, ticket_actions, ticket_ids

REVIEW_MODES = ("approve", "reject", "leave")
TRACE_FIELDS = ("turn", "intent", "category", "route", "outcome", "final_outcome", "policy_rule", "policy_rules",
                "review", "ticket_id", "tickets", "actions", "executed", "needs_info", "missing", "language", "answer",
                "citations", "retrieved", "grounded", "llm_calls", "latency_ms", "error")


def new_run_id() -> str:
    """Letters between the digit runs: a bare 18-digit stamp can pass the card check (Luhn) and be refused as a
    thread id that looks like personal data (app/thread_ids.py), as 20261207200736 + "1083" was."""
    return time.strftime("%Y%m%dT%H%M%S") + "r" + uuid.uuid4().hex[:4]


def thread_for(prefix: str, run_id: str, scenario_id: str) -> str:
    return f"{prefix}-{run_id}-{scenario_id}"


def _customer(customer: dict | None, run_id: str, own_ids: bool = False) -> dict | None:
    """The scenario's customer; its id is namespaced by run (per-customer totals never carry over between runs)
    unless the run has a shop of its own (`eval --shop`), whose customers are the fixture's ids."""
    if customer is None:
        return None
    c = dict(customer)
    if c.get("id") is not None and not own_ids:
        c["id"] = f"eval-{run_id}-{c['id']}"
    return c


def _decide(desk, thread_id: str, mode: str, reviewer: str):
    if mode == "approve":
        return desk.approve(thread_id, reviewer=reviewer, note="automatic decision by the evaluation harness")
    return desk.reject(thread_id, reviewer=reviewer, message="Declined by the evaluation harness.")


def _decided_before(desk, tid: str) -> tuple | None:
    """(policy rule, actions) the thread showed before this message, to tell a decision made on this turn from
    a review still waiting from an earlier one (the thread reports it on every turn until someone decides)."""
    try:
        prior = observe(desk, tid, desk.get(tid))
    except Exception:  # noqa: BLE001 - a new thread (or one the desk cannot read): nothing carried over
        return None
    return _decision(prior["policy_rule"], prior["actions"]) if prior["policy_rule"] or prior["actions"] else None


def _decision(rule: str | None, actions: list[dict]) -> tuple:
    """What was decided, whichever record shows it (the review request, or the decision in state)."""
    return rule, sorted((a.get("name"), repr(sorted((a.get("args") or {}).items()))) for a in actions)


def run_turn(desk, tid: str, msg: Any, customer: dict | None, review: str, reviewer: str | None
             ) -> tuple[dict[str, Any], str | None]:
    """(what the turn did, error). Latency is the customer's wait: `send` alone, not the harness's review."""
    before = ticket_ids(desk, tid)
    writes = {e["key"]: e["status"] for e in desk.services.executions.of_thread(tid)}  # before the turn
    earlier = _decided_before(desk, tid)
    error, paused, actions = None, False, []
    start = time.perf_counter()
    try:
        result = desk.send(msg, thread_id=tid, customer=customer)
        latency = round((time.perf_counter() - start) * 1000, 1)
        view = observe(desk, tid, result)
        paused, actions, rules = bool(result.pending_review), list(view["actions"]), [view["policy_rule"]]
        if earlier and _decision(view["policy_rule"], view["actions"]) == earlier:
            actions, rules = [], []  # a review still pending from an earlier turn: nothing was decided now
        view.update(final_outcome=view["outcome"], latency_ms=latency)
        guard = 0
        while result.pending_review and review != "leave" and guard < 3:
            guard += 1
            try:
                result = _decide(desk, tid, review, reviewer)
            except ReviewPayloadError as exc:  # e.g. the reviewer registry does not know `reviewer`
                error = f"review {review} as {reviewer!r} refused: {exc}"[:500]
                break
            after = observe(desk, tid, result)
            rules.append(after["policy_rule"])
            actions += after["actions"]
            view.update({k: after[k] for k in ("ticket_id", "llm_calls", "prompt_tokens", "completion_tokens")})
            view["final_outcome"] = after["outcome"]
        view["policy_rules"] = [r for r in dict.fromkeys(rules) if r]
    except Exception as exc:  # a bad message, or a failing node: record it on this turn, the run goes on
        error = str(exc) if isinstance(exc, MessageError) else f"{type(exc).__name__}: {exc}"[:500]
        view = {"outcome": "error", "final_outcome": "error", "policy_rules": [],
                "latency_ms": round((time.perf_counter() - start) * 1000, 1)}
    opened = new_tickets(desk, tid, before)  # every ticket of the turn, however many the reply mentions
    view["executed"] = [_write(e, desk) for e in desk.services.executions.of_thread(tid)
                        if e["key"] not in writes or e["status"] == "executed" != writes[e["key"]]]
    view.update(review=paused, tickets=[t["id"] for t in opened] or [t for t in [view.get("ticket_id")] if t],
                actions=dedupe(actions + ticket_actions(opened, taxonomy_of(desk))),
                needs_info=view.get("outcome") == "needs_info", error=error)
    return view, error


def _write(row: dict, desk) -> dict:
    """A write the turn made: operation, order, amount, what the system said. A contact detail is stored redacted
    (personal data stays out of the desk's storage), so the value an update left is read back from the system."""
    args = (row.get("call") or {}).get("arguments") or {}
    write = {"operation": row["operation"], "order_id": args.get("order_id"), "amount": args.get("amount"),
             "status": row["status"], "reference": row.get("reference"), "mode": row["mode"]}
    if "field" in args:
        write["field"] = args["field"]
        if row["status"] == "executed":
            found = desk.services.systems.read("lookup_customer", {}, row["customer_id"])
            write["value"] = ((found.get("customer") or {}) if found.get("ok") else {}).get(args["field"])
    return write


def run_scenario(desk, sc: AnyScenario, review: str = "leave", run_id: str = "run", prefix: str = "eval",
                 reviewer: str | None = None, own_customers: bool = False) -> dict:
    """One result line; exceptions become `outcome: error` so the rest of the suite still runs."""
    if review not in REVIEW_MODES:
        raise ValueError(f"review must be one of {REVIEW_MODES}, got {review!r}")
    if review != "leave" and not reviewer:
        raise ValueError(f"review {review!r} needs a reviewer id from the registry")
    tid = thread_for(prefix, run_id, sc.id)
    customer = _customer(sc.customer, run_id, own_ids=own_customers)
    trace: list[dict[str, Any]] = []
    error = None
    start = time.perf_counter()
    msgs = sc.messages
    for i, msg in enumerate(msgs):
        if not sc.per_turn and trace and trace[-1]["final_outcome"] == "escalated_pending_review":
            error = f"paused for review at turn {i}; {len(msgs) - i} later turn(s) not sent (--review leave)"
            break
        view, turn_error = run_turn(desk, tid, msg, customer, review, reviewer)
        trace.append({"turn": i + 1, **view})
        error = error or turn_error
        if not sc.per_turn and (view["outcome"] == "error" or error):
            break
    return _result(sc, tid, trace, error, review, round((time.perf_counter() - start) * 1000, 1))


def _result(sc: AnyScenario, tid: str, trace: list[dict], error: str | None, review: str,
            latency_ms: float) -> dict:
    last = trace[-1] if trace else {}
    rules = [r for t in trace for r in t.get("policy_rules", [])]
    tickets = [t["ticket_id"] for t in trace if t.get("ticket_id")]
    return {
        "id": sc.id, "intent": last.get("intent"), "category": last.get("category"),
        "confidence": last.get("confidence"), "route": last.get("route", []), "outcome": last.get("outcome", "error"),
        "policy_rules": list(dict.fromkeys(rules)), "review": any(t.get("review") for t in trace),
        "ticket_id": tickets[-1] if tickets else None,
        "retrieved": last.get("retrieved", []), "citations": last.get("citations", []),
        "grounded": last.get("grounded"),
        "llm_calls": sum(t.get("llm_calls", 0) for t in trace),
        "prompt_tokens": sum(t.get("prompt_tokens", 0) for t in trace),
        "completion_tokens": sum(t.get("completion_tokens", 0) for t in trace),
        "latency_ms": latency_ms, "error": error,
        "thread_id": tid, "final_outcome": last.get("final_outcome", "error"), "review_mode": review,
        "turns": len(sc.messages), "per_turn": sc.per_turn, "split": sc.split,
        "trace": [{k: t.get(k) for k in TRACE_FIELDS} for t in trace],
    }


def run_suite(desk, scenarios: list[AnyScenario], review: str = "leave", run_id: str | None = None,
              prefix: str = "eval", progress: bool = True, reviewer: str | None = None,
              on_result: Callable[[dict], None] | None = None, own_customers: bool = False) -> list[dict]:
    run_id = run_id or new_run_id()
    results = []
    for sc in _progress(scenarios, progress, prefix):
        res = run_scenario(desk, sc, review=review, run_id=run_id, prefix=prefix, reviewer=reviewer,
                           own_customers=own_customers)
        results.append(res)
        if on_result:
            on_result(res)
    return results


def _progress(items: list, enabled: bool, desc: str) -> Iterable:
    if not enabled:
        return items
    return tqdm(items, desc=desc, unit="scenario", file=sys.stderr, dynamic_ncols=True)
