"""The review inbox: the pending reviews of the index (app/store/pending_reviews.py), each checked against its thread.

The index orders, filters (app/review/inbox_query.py) and pages without opening a thread, so a page costs the same
at 100 threads or 10,000 (`bench inbox`). The rows are not the truth: each row a page shows is read back from its
thread, which is. A row whose thread is no longer paused is dropped (and deleted), one re-asked outside the runner
is rewritten, and what the page shows is built from the thread itself, so nothing stale can be shown or decided.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from agents.compliance.reviewers import Registry
from app.review import inbox_query
from app.store.pending_reviews import PRIORITIES, amounts, paused_at
from app.threads import ThreadRunner

__all__ = ["DEFAULT_LIMIT", "PRIORITIES", "age_text", "count", "inbox", "paused_threads", "to_item"]

DEFAULT_LIMIT = 50  # one page of the inbox; `limit=None` reads every pending review (groups, the SLA sweep)


def age_text(seconds: float) -> str:
    minutes = int(seconds // 60)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    return f"{days}d {hours}h" if days else f"{hours}h {mins:02d}m" if hours else f"{mins}m"


def to_item(thread_id: str, interrupt: Any, created_at: str, values: dict, registry: Registry,
            escalation: dict | None = None, now: float | None = None,
            to_base: Callable[[Any, str | None], float | None] | None = None) -> dict[str, Any]:
    """One inbox row from a paused thread's interrupt and state. `to_base` (the policy's rates) puts the amount
    in the currency the limits are in: 100,000 JPY is not above a $500 limit, and nobody qualifies for an amount
    in a currency without a rate (the graph refuses every approval of it)."""
    now = time.time() if now is None else now
    payload = interrupt.value
    req, meta = payload["action_requests"][0], payload.get("metadata") or {}
    args, customer = req.get("args") or {}, values.get("customer") or {}
    amount = args.get("amount")
    _, limit, unrated = amounts(args, meta, to_base)
    limit_amount = limit if limit is not None and math.isfinite(limit) else None
    rule_queue, role = meta.get("queue"), meta.get("reviewer_role")
    queue, qualified = registry.route(rule_queue, role, limit)
    q = registry.queues.get(queue or "") or registry.queues.get(rule_queue or "")
    paused = paused_at(meta, created_at)
    age = max(0.0, now - paused)
    base = (values.get("compliance") or {}).get("priority") or "normal"
    sla_hours = q.sla_hours if q else None
    return {
        "thread_id": thread_id, "interrupt_id": interrupt.id, "created_at": created_at,
        "age_seconds": round(age, 1), "age": age_text(age),
        "rule_id": meta.get("rule_id"), "reason": req.get("description", "").split(" (rule ")[0],
        "policy_version": meta.get("policy_version"), "action": req.get("name"), "args": args,
        "amount": amount, "limit_amount": limit_amount, "unrated_currency": unrated, "currency": args.get("currency"),
        "intent": meta.get("intent"),
        "customer_id": customer.get("id"), "tier": customer.get("tier", "standard"),
        "queue": queue, "rule_queue": rule_queue, "reviewer_role": role,
        "priority": escalation["priority"] if escalation else base,
        "sla_hours": sla_hours,
        "due_at": datetime.fromtimestamp(paused + sla_hours * 3600, UTC).isoformat() if sla_hours else None,
        "overdue": bool(sla_hours and age > sla_hours * 3600),
        "escalated_to": escalation["escalated_to"] if escalation else None,
        "qualified": qualified, "error": meta.get("error"),
        "customer_notes": meta.get("customer_notes") or [], "request": values.get("request"), "review": payload,
        "facts": {"order": meta["order"]} if meta.get("order") else None,  # as the company's systems held it
    }


def read(runner: ThreadRunner, thread_id: str) -> Any:
    """A thread's snapshot by an id the checkpointer or the index already holds (not a caller's: not checked
    again, so a thread saved under an id a later rule would refuse still shows)."""
    return runner.graph.get_state({"configurable": {"thread_id": thread_id}})


def _rows(runner: ThreadRunner, where: str, params: list, limit: int | None, offset: int) -> Iterator[tuple]:
    """(index row, thread snapshot) for one page, each row checked against its thread: rows whose thread is not
    paused are deleted and the next rows fill the page; a row whose thread was re-asked outside the runner (Studio,
    a graph call of one's own) is rewritten from it."""
    index = runner.pending
    index.repair(lambda tid: read(runner, tid))  # marks that runs left unsettled (a crash): settled first
    seen: set[str] = set()
    while True:
        batch = index.page(where, params, limit, offset)
        kept = deleted = 0
        for row in batch:
            tid = row["thread_id"]
            snap = None if tid in seen else read(runner, tid)
            if snap is None:
                continue
            if not snap.interrupts or snap.interrupts[0].id != row["interrupt_id"]:
                done = index.write(tid, snap, rev=row["rev"])
                deleted += done and not snap.interrupts
            if snap.interrupts:
                seen.add(tid)
                kept += 1
                yield row, snap
        if limit is None or len(batch) < limit or not deleted:
            return
        # The deleted rows' places were taken by the rows after them: read on from there.
        limit, offset = limit - kept, offset + len(batch) - deleted


def paused_threads(runner: ThreadRunner, limit: int | None = None, offset: int = 0) -> Iterator[tuple[str, Any]]:
    """(thread id, snapshot) of the threads waiting for a review decision, most urgent first."""
    for row, snap in _rows(runner, "", [], limit, offset):
        yield row["thread_id"], snap


def inbox(runner: ThreadRunner, registry: Registry, queue: str | None = None, reviewer: str | None = None,
          now: float | None = None, limit: int | None = DEFAULT_LIMIT, offset: int = 0,
          overdue: bool = False) -> list[dict[str, Any]]:
    """A page of pending reviews, most urgent then oldest first, optionally one queue's or one reviewer's (items
    they are qualified for in their queues, plus items escalated to their roles), or only those overdue and not
    yet escalated (`overdue`: the SLA sweep's)."""
    who = registry.get(reviewer) if reviewer else None
    at = time.time() if now is None else now
    where, params = inbox_query.filters(registry, queue=queue, who=who, overdue_at=at if overdue else None)
    rows = list(_rows(runner, where, params, limit, offset))
    escalations = runner.pending.escalations([row["thread_id"] for row, _ in rows])
    to_base = runner.services.policy.to_base
    items = []
    for row, snap in rows:
        tid, intr = row["thread_id"], snap.interrupts[0]
        first = ((intr.value.get("metadata") or {}).get("opened") or {}).get("review_id")
        escalation = escalations.get((tid, intr.id)) or escalations.get((tid, first))
        if escalation and row["escalated_to"] != escalation["escalated_to"]:  # the sweep stopped before the index
            runner.pending.escalated(tid, escalation["interrupt_id"], escalation["priority"],
                                     escalation["escalated_to"])
        items.append(to_item(tid, intr, snap.created_at, snap.values or {}, registry, escalation, now, to_base))
    # The SQL judged each row by its index facts; what is shown is judged by the thread itself.
    if queue:
        items = [i for i in items if i["queue"] == queue]
    if who:
        items = [i for i in items if (who.id in i["qualified"] and (not who.queues or i["queue"] in who.queues))
                 or i["escalated_to"] in who.roles]
    items.sort(key=lambda i: (-PRIORITIES.index(i["priority"]) if i["priority"] in PRIORITIES else 0,
                              -i["age_seconds"]))
    return items


def count(runner: ThreadRunner, registry: Registry, queue: str | None = None, reviewer: str | None = None) -> int:
    """How many pending reviews the filters select, from the index alone (no thread is read)."""
    who = registry.get(reviewer) if reviewer else None
    return runner.pending.count(*inbox_query.filters(registry, queue=queue, who=who))
