"""The agent workspace's list: tickets and conversations waiting for a review, one row each, with the
customer, the last message, status, queue, age and SLA, in a saved view ("Mine", "Unassigned", "Waiting for
review", "Past SLA"), filtered by queue, status and text, and sorted by age, SLA or priority.

SLA is the first-response deadline of the ticket's queue (`sla_hours` in the reviewer registry,
app/config/reviewers.yaml): met or missed once a person replied, due or overdue until then. A paused review
uses the same deadline from the moment it paused (app/review/inbox.py computes it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from agents.compliance.reviewers import ReviewerError, registry_for
from app.desk import SupportDesk
from app.ticket_ops import transcript
from app.ui import labels

REVIEW = "review"  # the status filter's name for "awaiting review" rows
ASSISTANT = "assistant"  # a conversation the assistant handled alone: no ticket, no review
DONE = ("solved", "closed")


@dataclass
class Row:
    key: str  # "ticket:<id>" or "review:<thread id>"
    thread_id: str
    ticket_id: str | None
    customer: str
    preview: str
    status: str
    queue: str
    assignee: str
    age_s: float
    sla: str
    overdue: bool
    due_s: float | None = None  # seconds to the first-response deadline (negative: past it); None: none running
    priority: str = "normal"
    search: str = ""
    item: dict = field(default_factory=dict, repr=False)  # the ticket or the inbox item

    def table(self) -> dict:
        return {"Ticket": self.ticket_id or "—", "Customer": self.customer, "Last message": self.preview,
                "Status": labels.status(self.status), "Queue": labels.humanize(self.queue) if self.queue else "—",
                "Assignee": self.assignee or "—",
                "Age": labels.duration(self.age_s), "SLA": self.sla}

    def label(self) -> str:
        ref = self.ticket_id or "Review"
        return f"{ref} · {self.customer} · {labels.status(self.status)} · {labels.preview(self.preview, 50)}"


def sla_hours(desk: SupportDesk) -> dict[str, float]:
    try:
        return {name: q.sla_hours for name, q in registry_for(desk.services.settings).queues.items()}
    except ReviewerError:
        return {}


def ticket_sla(ticket: dict, hours: float | None, now: float) -> tuple[str, bool]:
    """(words, overdue) for the first-response deadline."""
    if hours is None:
        return "—", False
    deadline = _deadline(ticket, hours)
    if ticket.get("first_response_at"):
        late = ticket["first_response_at"] - deadline
        return ("Met" if late <= 0 else f"Missed by {labels.duration(late)}"), False
    if ticket["status"] in DONE:
        return "—", False
    left = deadline - now
    return (f"Due in {labels.duration(left)}", False) if left > 0 else (f"Overdue by {labels.duration(-left)}", True)


def ticket_due(ticket: dict, hours: float | None, now: float) -> float | None:
    """Seconds left to the first-response deadline while one runs (None once answered, done, or without SLA)."""
    if hours is None or ticket.get("first_response_at") or ticket["status"] in DONE:
        return None
    return _deadline(ticket, hours) - now


def _deadline(ticket: dict, hours: float) -> float:
    """The first-response deadline, from the customer's message (older tickets: from their creation)."""
    return (ticket.get("asked_at") or ticket["created_at"]) + hours * 3600


def _last(desk: SupportDesk, thread_id: str) -> str:
    msgs = transcript(desk.runner, thread_id)
    return labels.preview(msgs[-1]["content"]) if msgs else ""


def rows(desk: SupportDesk, limit: int = 200, now: float | None = None) -> list[Row]:
    """Reviews waiting (oldest first), then tickets (newest first)."""
    now = time.time() if now is None else now
    hours = sla_hours(desk)
    out = []
    for it in sorted(desk.inbox(limit=None), key=lambda i: -i["age_seconds"]):
        left = (it["sla_hours"] or 0) * 3600 - it["age_seconds"]
        sla = "—" if not it["sla_hours"] else (
            f"Overdue by {labels.duration(-left)}" if it["overdue"] else f"Due in {labels.duration(left)}")
        out.append(Row(f"review:{it['thread_id']}", it["thread_id"], None, labels.customer(it.get("customer_id")),
                       _last(desk, it["thread_id"]), REVIEW, it.get("queue") or "", "", it["age_seconds"], sla,
                       bool(it["overdue"]), left if it["sla_hours"] else None, it.get("priority") or "normal",
                       item=it))
    for t in desk.tickets.list(limit=limit):
        sla, overdue = ticket_sla(t, hours.get(t.get("queue") or ""), now)
        hours_q = hours.get(t.get("queue") or "")
        out.append(Row(f"ticket:{t['id']}", t["thread_id"], t["id"], labels.customer(t.get("customer_id")),
                       _last(desk, t["thread_id"]), t["status"], t.get("queue") or "", t.get("assignee") or "",
                       now - t["created_at"], sla, overdue, ticket_due(t, hours_q, now), t.get("priority") or "normal",
                       item=t))
    for r in out:
        r.search = " ".join(str(x) for x in (r.ticket_id, r.customer, r.preview, r.queue, r.assignee,
                                             r.item.get("summary"), r.item.get("request"), r.thread_id)).lower()
    return out


def assistant_only(desk: SupportDesk, limit: int = 100, now: float | None = None) -> list[Row]:
    """Recent conversations with neither a ticket nor a pending review (read-only in the workspace)."""
    now = time.time() if now is None else now
    out = []
    for tid in desk.runner.thread_ids()[:limit]:
        snap = desk.runner.snapshot(tid)
        if snap.interrupts or not snap.values or desk.tickets.list(thread_id=tid, limit=1):
            continue
        values, msgs = snap.values, transcript(desk.runner, tid)
        updated = datetime.fromisoformat(snap.created_at).timestamp() if snap.created_at else now
        row = Row(f"thread:{tid}", tid, None, labels.customer((values.get("customer") or {}).get("id")),
                  labels.preview(msgs[-1]["content"]) if msgs else "", ASSISTANT, "", "", now - updated, "—", False,
                  item={"outcome": values.get("outcome")})
        row.search = " ".join((row.customer, row.preview, tid)).lower()
        out.append(row)
    return out


PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
# Saved views: what an agent opens the workspace for. "Mine": assigned to them, or a conversation they hold.
VIEWS = {
    "All": lambda r, me: True,
    "Mine": lambda r, me: bool(me) and me in (r.assignee, r.item.get("held_by")),
    "Unassigned": lambda r, me: r.ticket_id is not None and not r.assignee and r.status not in DONE,
    "Waiting for review": lambda r, me: r.status == REVIEW,
    "Past SLA": lambda r, me: r.overdue,
}
SORTS = {
    "Newest first": lambda r: r.age_s,
    "SLA: most urgent first": lambda r: (r.due_s is None, r.due_s if r.due_s is not None else 0.0),
    "Priority: highest first": lambda r: (PRIORITY_ORDER.get(r.priority, 2), -r.age_s),
}


def in_view(rows_: list[Row], view: str, me: str | None) -> list[Row]:
    test = VIEWS.get(view or "All", VIEWS["All"])
    return [r for r in rows_ if test(r, me)]


def ordered(rows_: list[Row], sort: str) -> list[Row]:
    """Sorted by `sort`; the list as read (reviews oldest first, then tickets newest first) for an unknown one."""
    return sorted(rows_, key=SORTS[sort]) if sort in SORTS else list(rows_)


def keep(rows_: list[Row], queues: list[str], statuses: list[str], text: str) -> list[Row]:
    text = (text or "").strip().lower()
    return [r for r in rows_ if (not queues or r.queue in queues) and (not statuses or r.status in statuses)
            and (not text or text in r.search)]
