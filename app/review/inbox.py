"""The review inbox: every pending review, read from the checkpointer on every call.

Paused threads *are* the pending reviews, so the inbox cannot drift from the truth.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from agents.compliance.reviewers import Registry, carried_amount
from app.store.review_claims import ReviewClaims
from app.threads import ThreadRunner

PRIORITIES = ("low", "normal", "high", "urgent")


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
    # Who qualifies depends on the largest amount the action has carried (`max_amount`, already in the policy
    # currency), not on an amount an edit lowered.
    converted = amount if to_base is None or amount is None else to_base(amount, args.get("currency"))
    unrated = amount is not None and to_base is not None and converted is None
    limit = math.inf if unrated else carried_amount(converted, meta.get("max_amount"))
    limit_amount = limit if limit is not None and math.isfinite(limit) else None
    rule_queue, role = meta.get("queue"), meta.get("reviewer_role")
    queue, qualified = registry.route(rule_queue, role, limit)
    q = registry.queues.get(queue or "") or registry.queues.get(rule_queue or "")
    # A customer's note re-asks the review under a new interrupt: the item's age counts from its first pause.
    opened = meta.get("opened") or {}
    paused = datetime.fromisoformat(opened.get("at") or created_at).timestamp()
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
    }


def paused_threads(runner: ThreadRunner) -> Iterator[tuple[str, Any]]:
    """(thread id, snapshot) of every thread waiting for a review decision."""
    for tid in runner.thread_ids():
        snap = runner.snapshot(tid)
        if snap.interrupts:
            yield tid, snap


def inbox(runner: ThreadRunner, claims: ReviewClaims, registry: Registry, queue: str | None = None,
          reviewer: str | None = None, now: float | None = None) -> list[dict[str, Any]]:
    """Every pending review across all threads, most urgent then oldest first, optionally one queue's or
    one reviewer's (items they are qualified for in their queues, plus items escalated to their roles)."""
    who = registry.get(reviewer) if reviewer else None
    escalations = claims.escalations()
    to_base = runner.services.policy.to_base
    items = []
    for tid, snap in paused_threads(runner):
        intr = snap.interrupts[0]
        first = ((intr.value.get("metadata") or {}).get("opened") or {}).get("review_id")
        escalation = escalations.get((tid, intr.id)) or escalations.get((tid, first))
        items.append(to_item(tid, intr, snap.created_at, snap.values or {}, registry, escalation, now, to_base))
    if queue:
        items = [i for i in items if i["queue"] == queue]
    if who:
        items = [i for i in items if (who.id in i["qualified"] and (not who.queues or i["queue"] in who.queues))
                 or i["escalated_to"] in who.roles]
    items.sort(key=lambda i: (-PRIORITIES.index(i["priority"]) if i["priority"] in PRIORITIES else 0,
                              -i["age_seconds"]))
    return items
