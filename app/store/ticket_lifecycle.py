"""A ticket's lifecycle: its statuses, where each may go next, and the refusals a move can meet.

Apart from the store so the console, the HTTP API and the ticket desk can check a move, list the statuses or
catch a refusal without opening a database.
"""

from __future__ import annotations

STATUSES = ("new", "open", "pending_customer", "solved", "closed", "reopened")
# Where each status may go next; `closed` is final and `reopened` follows `solved` only.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"open", "pending_customer", "solved", "closed"}),
    "open": frozenset({"pending_customer", "solved", "closed"}),
    "pending_customer": frozenset({"open", "solved", "closed"}),
    "solved": frozenset({"reopened", "closed"}),
    "reopened": frozenset({"open", "pending_customer", "solved", "closed"}),
    "closed": frozenset(),
}
EVENT_KINDS = ("reply", "note", "assign", "status", "customer", "handback")  # customer: a message forwarded in
LEGACY = {"approved": ("solved", "approved")}  # old status → (status, resolution); see app/store/tickets.py
RECORDS = ("approved", "executed", "refused")  # resolutions that are a record of what the desk did, not work


class TicketError(ValueError):
    """A ticket operation refused: unknown ticket, status or event kind, or a transition the lifecycle forbids."""


class UnknownTicketError(TicketError, LookupError):
    pass


class TicketConflictError(TicketError):
    """Refused because of where the ticket (or its thread) stands, not because of the input: closed, already in
    that status, a move the lifecycle forbids from here, or changed meanwhile. The HTTP API answers 409."""


def check_transition(current: str, target: str) -> None:
    if target not in STATUSES:
        raise TicketError(f"unknown status {target!r}; one of: {', '.join(STATUSES)}")
    if current == target:
        raise TicketConflictError(f"ticket is already {target}")
    if target not in TRANSITIONS.get(current, frozenset()):
        if current == "closed":
            raise TicketConflictError("ticket is closed; closed is final")
        allowed = ", ".join(sorted(TRANSITIONS.get(current, ()))) or "nothing"
        why = " (reopened only from solved)" if target == "reopened" else ""
        raise TicketConflictError(f"cannot move a {current} ticket to {target}{why}; allowed: {allowed}")


def reopenable(ticket: dict) -> bool:
    """A solved ticket a person solved: a customer writing again means the answer did not settle it."""
    return ticket["status"] == "solved" and ticket.get("resolution") not in RECORDS
