"""SLA sweep: pending reviews past their queue's deadline get a higher priority and another role is told.

Run it from cron or by hand (`python -m app review sla`); it is idempotent: an item is escalated
once (a durable mark plus an audit entry with a fixed key), however often the sweep runs.
"""

from __future__ import annotations

from typing import Any

from agents.compliance.reviewers import Registry
from app.review.inbox import PRIORITIES, age_text
from app.store.pending_reviews import PendingReviews
from app.store.review_claims import ReviewClaims


def raised(priority: str) -> str:
    idx = PRIORITIES.index(priority) if priority in PRIORITIES else 1
    return PRIORITIES[min(idx + 1, len(PRIORITIES) - 1)]


def sweep(items: list[dict], registry: Registry, claims: ReviewClaims, audit: Any,
          index: PendingReviews | None = None) -> list[dict[str, Any]]:
    """Escalate every overdue, not yet escalated inbox item; returns what was escalated by this run. The index of
    pending reviews (`index`) learns the raised priority last: the inbox orders and filters by it."""
    out = []
    for it in items:
        if not it["overdue"] or it["escalated_to"]:
            continue
        queue = registry.queues.get(it["queue"] or "") or registry.queues.get(it["rule_queue"] or "")
        if queue is None:
            continue
        role, priority = queue.escalate_to, raised(it["priority"])
        notified = [r.id for r in registry.reviewers if role in r.roles]
        overdue_by = it["age_seconds"] - it["sla_hours"] * 3600
        reason = (f"review pending {it['age']} in queue {it['queue']} (SLA {it['sla_hours']:g} h, overdue by "
                  f"{age_text(overdue_by)}): priority {it['priority']} → {priority}; notified role {role} "
                  f"({', '.join(notified)})")
        # Audit first (fixed key: never twice), then the mark the inbox reads, then the index (a sweep stopped
        # before it is caught up by the next inbox read of the item).
        audit.record(
            f"{it['thread_id']}:sla_escalation:{it['interrupt_id']}", it["thread_id"], "reviews", "sla_escalation",
            reason, actor="system:sla",
            evidence={"rule_id": it["rule_id"], "queue": it["queue"], "sla_hours": it["sla_hours"],
                      "age_seconds": it["age_seconds"], "priority_from": it["priority"], "priority_to": priority,
                      "escalated_to": role, "notified": notified})
        new = claims.escalate(it["thread_id"], it["interrupt_id"], priority, role)
        if index is not None:
            index.escalated(it["thread_id"], it["interrupt_id"], priority, role)
        if new:
            out.append({"thread_id": it["thread_id"], "interrupt_id": it["interrupt_id"], "queue": it["queue"],
                        "rule_id": it["rule_id"], "age": it["age"], "priority": priority, "escalated_to": role,
                        "notified": notified})
    return out
