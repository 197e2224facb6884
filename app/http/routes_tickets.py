"""Ticket endpoints for the team: list and read tickets, and work them — assign, reply to the customer, add an
internal note, move the status, hand the conversation back to the assistant. Every change may carry the status
the person last saw (`expect_status`): if the ticket moved since, the change is refused (409), not applied blind.

The actor is the reviewer token's owner, never a field of the body, and every change is audited with it
(app/ticket_ops.py). A change answers with the ticket as it now stands, plus the event it recorded. Errors are JSON
`{"error": …}` like the other routes: 400 bad input (an assignee or queue the reviewer registry does not have
included), 403 a change outside the caller's scope (app/ticket_scope.py: moving a ticket of a queue they do not
work, without the supervisor role), 404 unknown ticket, 409 a change the ticket's state refuses (a forbidden
transition, a closed ticket, a thread waiting for a review decision or busy with another run).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from app.http.auth import Caller, reviewer
from app.http.deps import desk_of
from app.store.ticket_lifecycle import STATUSES, TicketConflictError, TicketError, UnknownTicketError
from app.ticket_scope import TicketScopeError

router = APIRouter(tags=["tickets"])

_STATUS = f"One of: {', '.join(STATUSES)}."
_EXPECT = ("The ticket's status as you last saw it: the change is refused (409) if the ticket has moved since, "
           "say the customer wrote again or a colleague solved it.")


class Change(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expect_status: str | None = Field(None, description=_EXPECT)


class Assign(Change):
    to: str | None = Field(None, max_length=100, description="A person in the reviewer registry, or `queue:<name>`.")
    queue: str | None = Field(None, max_length=100, description="A queue the registry defines, instead of (or as "
                                                                "well as) a person.")


class Reply(Change):
    message: str = Field(max_length=20_000, description="The public reply; it joins the customer's conversation.")
    status: str | None = Field(None, description=f"Also move the ticket to this status. {_STATUS}")


class Note(Change):
    message: str = Field(max_length=20_000, description="An internal note; never shown to the customer.")


class StatusChange(Change):
    to: str = Field(description=_STATUS)
    reason: str | None = Field(None, max_length=4000, description="Why; recorded on the ticket.")


class HandBack(Change):
    reason: str | None = Field(None, max_length=4000, description="Why; recorded on the ticket.")


def _changed(call: Callable[[], dict]) -> dict[str, Any]:
    """Run a ticket change; its result as the ticket with the event it recorded, or the JSON error."""
    try:
        result = call()
    except UnknownTicketError as exc:
        raise HTTPException(404, str(exc)) from None
    except TicketScopeError as exc:  # who is asking, not what they sent
        raise HTTPException(403, str(exc)) from None
    except TicketConflictError as exc:  # where the ticket or its thread stands, not the input
        raise HTTPException(409, str(exc)) from None
    except TicketError as exc:
        raise HTTPException(400, str(exc)) from None
    event = {k: v for k, v in result.items() if k != "ticket"}
    return {**result["ticket"], "event": event}


@router.get("/tickets")
def list_tickets(request: Request, thread_id: str | None = None, status: str | None = None,
                 queue: str | None = None, assignee: str | None = None,
                 caller: Caller = Depends(reviewer)) -> list[dict[str, Any]]:
    """Tickets, newest first, filtered by conversation, status, queue or assignee."""
    try:
        return desk_of(request).tickets.list(thread_id=thread_id, status=status, queue=queue, assignee=assignee)
    except TicketError as exc:
        raise HTTPException(400, str(exc)) from None


@router.get("/tickets/{ticket_id}")
def get_ticket(ticket_id: str, request: Request, caller: Caller = Depends(reviewer)) -> dict[str, Any]:
    """One ticket with its events (notes included: this is the team's view), response times and notifications."""
    desk = desk_of(request)
    try:
        ticket = desk.tickets.show(ticket_id)
    except UnknownTicketError as exc:
        raise HTTPException(404, str(exc)) from None
    return {**ticket, "notifications": desk.services.tickets.notifications(ticket_id)}


@router.post("/tickets/{ticket_id}/assign")
def assign(ticket_id: str, body: Assign, request: Request, caller: Caller = Depends(reviewer)) -> dict[str, Any]:
    if not (body.to or body.queue):
        raise HTTPException(400, "assign needs `to` (a person or queue:<name>) or `queue`")
    return _changed(lambda: desk_of(request).tickets.assign(ticket_id, caller.id, to=body.to, queue=body.queue,
                                                                expect_status=body.expect_status))


@router.post("/tickets/{ticket_id}/reply")
def reply(ticket_id: str, body: Reply, request: Request, caller: Caller = Depends(reviewer)) -> dict[str, Any]:
    """A public reply: written into the customer's thread as the agent's message (GET /v1/threads/{id})."""
    return _changed(lambda: desk_of(request).tickets.reply(ticket_id, caller.id, body.message, status=body.status,
                                                               expect_status=body.expect_status))


@router.post("/tickets/{ticket_id}/note")
def note(ticket_id: str, body: Note, request: Request, caller: Caller = Depends(reviewer)) -> dict[str, Any]:
    return _changed(lambda: desk_of(request).tickets.note(ticket_id, caller.id, body.message,
                                                              expect_status=body.expect_status))


@router.post("/tickets/{ticket_id}/status")
def status(ticket_id: str, body: StatusChange, request: Request,
           caller: Caller = Depends(reviewer)) -> dict[str, Any]:
    return _changed(lambda: desk_of(request).tickets.status(ticket_id, caller.id, body.to, reason=body.reason,
                                                                expect_status=body.expect_status))


@router.post("/tickets/{ticket_id}/handback")
def hand_back(ticket_id: str, body: HandBack, request: Request, caller: Caller = Depends(reviewer)) -> dict[str, Any]:
    """The assistant answers the customer again. While a person holds a conversation (they replied on its ticket or
    took it), the customer's messages go to them and the assistant stays silent; solving the ticket ends that too."""
    return _changed(lambda: desk_of(request).tickets.hand_back(ticket_id, caller.id, reason=body.reason,
                                                               expect_status=body.expect_status))
