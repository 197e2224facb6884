"""Words people read instead of the store's identifiers: statuses, events and durations.

The stores keep snake_case codes (they are an API); every console table and caption goes through here,
so a header never reads `customer_id` and a status never reads `pending_customer`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

STATUS = {"new": "New", "open": "Open", "pending_customer": "Waiting on customer", "solved": "Solved",
          "closed": "Closed", "reopened": "Reopened", "review": "Awaiting review",
          "assistant": "Handled by the assistant"}
# What the customer is told about their ticket: no queue, no rule, no reviewer.
CUSTOMER_STATUS = {"new": "received", "open": "being worked on", "pending_customer": "waiting for your reply",
                   "solved": "solved", "closed": "closed", "reopened": "reopened"}
EVENT = {"reply": "Reply to the customer", "note": "Internal note", "assign": "Assignment", "status": "Status change",
         "customer": "Customer wrote", "handback": "Handed back to the assistant"}
# What a turn or a decision came to, as a sentence's end: "Approved by bo: refund carried out".
OUTCOME = {"answered": "answered", "ticket_created": "ticket opened", "escalated_pending_review": "waiting for review",
           "refused": "refused", "error": "failed", "needs_info": "asked the customer for a detail",
           "withdrawn": "withdrawn by the customer", "with_person": "passed to the person handling it"}
DECISION = {"approve": "Approved", "reject": "Rejected", "edit": "Edited and approved"}
COLUMN = {"customer_id": "Customer", "thread_id": "Conversation", "p50_ms": "p50 (ms)", "p95_ms": "p95 (ms)",
          "failure_rate": "Failure rate", "llm_calls": "LLM calls", "first_response_s": "First response",
          "resolution_s": "Resolution", "rule_id": "Rule", "ms": "Duration (ms)", "doc_id": "Document",
          "ingested_at": "Ingested"}


def status(code: str | None) -> str:
    return STATUS.get(code or "", (code or "—").replace("_", " ").capitalize())


def outcome(code: str | None) -> str:
    return OUTCOME.get(code or "", humanize(code).lower())


def column(name: str) -> str:
    return COLUMN.get(name, name.replace("_", " ").capitalize())


def role(name: str) -> str:
    """`billing-lead` → "Billing lead"."""
    return humanize(name.replace("-", "_"))


_IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


def words(text: str | None) -> str:
    """A stored sentence with identifiers in it ("intent refund_request (confidence 0.99) → compliance"), with each
    snake_case identifier read as words ("intent refund request …"): the audit trail keeps its text as written."""
    return _IDENTIFIER.sub(lambda m: m.group().replace("_", " "), text or "")


def humanize(name: str | None) -> str:
    """`policy_decision` → "Policy decision"."""
    return (name or "—").replace("_", " ").capitalize()


def duration(seconds: float | None) -> str:
    """"—" until it happened; then the coarsest two units ("45s", "12m 05s", "3h 20m", "2d 4h")."""
    if seconds is None:
        return "—"
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    m, h, d = s // 60, s // 3600, s // 86400
    if h == 0:
        return f"{m}m {s % 60:02d}s"
    return f"{h}h {m % 60:02d}m" if d == 0 else f"{d}d {h % 24}h"


def customer(customer_id: str | None) -> str:
    """A customer as the team reads them: their id, or "Guest" for one who did not sign in (stored as
    `anonymous:<channel>`, the key per-channel totals count by)."""
    if not customer_id or customer_id.startswith("anonymous:"):
        return "Guest"
    return customer_id


def money(amount: float | None, currency: str | None = None) -> str:
    """"USD 1,234.50"; "—" without an amount."""
    return "—" if amount is None else f"{currency or 'USD'} {float(amount):,.2f}"


def when(ts: float | None) -> str:
    return "—" if ts is None else datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def preview(text: str | None, width: int = 80) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
