"""People working tickets: assign, reply to the customer, note, move the status — each audited with its actor.

A public reply is delivered into the customer's own thread as an agent message (`AIMessage(name="agent:<id>")`)
written with LangGraph's `update_state(..., as_node="respond")`, so the conversation reads as one: `desk.history`
and the chat show it, and the customer's next message is an ordinary next turn of the same thread. It is written
under the thread's lock (one writer per thread, app/threads.py) and refused while the thread waits for a review
decision or has a run a crash cut short: writing then would replace the paused step and lose the review.

Notes are internal: stored as ticket events only, never in the thread.

Who may do what is app/ticket_scope.py: the actor is a person in the reviewer registry, assignments name only
people and queues it has, and moving a ticket (its status, or to another queue or person) takes its queue or the
supervisor role, checked on the ticket row under its lock.
"""

from __future__ import annotations

import re
import statistics
import uuid
from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage

from agents.compliance.reviewers import Registry, Reviewer, registry_for
from agents.supervisor.conversation import MessageError, validate_message
from app import ticket_scope as scope
from app.store.ticket_lifecycle import STATUSES, TicketConflictError, TicketError, UnknownTicketError, reopenable
from app.store.tickets import TicketStore
from app.threads import ThreadRunner, config_of, cut_short
from app.ticket_scope import TicketScopeError, UnknownAssigneeError
from knowledge.pii import redact

__all__ = ["TicketDesk", "TicketError", "TicketConflictError", "UnknownTicketError", "TicketScopeError",
           "UnknownAssigneeError", "STATUSES", "response_summary"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
CUSTOMER = "customer"


def check_name(value: str | None, what: str) -> str:
    """Actor, assignee and queue ids end up in the audit trail and the thread: short, printable, no spaces."""
    if not isinstance(value, str) or not _ID.match(value):
        raise TicketError(f"invalid {what} {value!r}: 1-64 letters, digits, '.', '_', '@' or '-'")
    return value


def check_text(message: str) -> str:
    try:
        return redact(validate_message(message))
    except MessageError as exc:
        raise TicketError(str(exc)) from exc


class TicketDesk:
    """The ticket operations of the Python API (the CLI and the console call these)."""

    def __init__(self, runner: ThreadRunner | None = None, services=None):
        """`runner` is needed for replies only (they write to the thread); the rest works on `services` alone."""
        if runner is None and services is None:
            raise ValueError("TicketDesk needs a ThreadRunner or Services")
        self.runner = runner
        self.services = services or runner.services

    @property
    def store(self) -> TicketStore:
        return self.services.tickets

    @property
    def registry(self) -> Registry:
        """The team, as the reviewer registry in force says (re-read when its file changes)."""
        return registry_for(self.services.settings)

    def _member(self, actor: str) -> Reviewer:
        return scope.member(self.registry, _actor(actor))

    # ---- reading -----------------------------------------------------------------------------------------
    def list(self, thread_id: str | None = None, status: str | None = None, queue: str | None = None,
             assignee: str | None = None, limit: int = 200) -> list[dict]:
        if status is not None and status not in STATUSES:
            raise TicketError(f"unknown status {status!r}; one of: {', '.join(STATUSES)}")
        return self.store.list(thread_id=thread_id, status=status, queue=queue, assignee=assignee, limit=limit)

    def show(self, ticket_id: str) -> dict:
        """The ticket, its events (notes included: this is the team's view) and its response times."""
        ticket = self.store.require(ticket_id)
        [times] = self.store.response_times(ticket_id)
        return {**ticket, "events": self.store.events(ticket_id),
                "first_response_s": times["first_response_s"], "resolution_s": times["resolution_s"]}

    # ---- changes -----------------------------------------------------------------------------------------
    def assign(self, ticket_id: str, actor: str, to: str | None = None, queue: str | None = None,
               expect_status: str | None = None) -> dict:
        """`to` is a person, or "queue:<name>"; `queue` names a queue directly. Both must exist in the registry;
        the actor must be allowed to move the ticket where it is now (app/ticket_scope.py)."""
        who = self._member(actor)
        if to and to.startswith("queue:"):
            queue, to = to.removeprefix("queue:"), None
        person = check_name(to, "assignee") if to else None
        queue = check_name(queue, "queue") if queue else None
        scope.check_targets(self.registry, person, queue)
        event = self.store.assign(ticket_id, who.id, assignee=person, queue=queue,
                                  guard=unchanged(expect_status, scope.guard(who, "assigning")))
        return self._audit(ticket_id, event, "ticket_assigned", f"assigned: {event['body']}",
                           {"assignee": person, "queue": queue})

    def note(self, ticket_id: str, actor: str, message: str, expect_status: str | None = None) -> dict:
        event = self.store.add_event(ticket_id, "note", self._member(actor).id, check_text(message),
                                     guard=unchanged(expect_status))
        return self._audit(ticket_id, event, "ticket_note", "internal note added", {"note": event["body"]})

    def status(self, ticket_id: str, actor: str, to: str, reason: str | None = None,
               expect_status: str | None = None) -> dict:
        who = self._member(actor)
        was = self.store.require(ticket_id)["status"]
        event = self.store.set_status(ticket_id, to, who.id, check_text(reason) if reason else "",
                                      guard=unchanged(expect_status, scope.guard(who, f"moving the status to {to}")))
        return self._audit(ticket_id, event, "ticket_status", f"status {was} → {to}", {"from": was, "to": to})

    def reply(self, ticket_id: str, actor: str, message: str, status: str | None = None,
              expect_status: str | None = None) -> dict:
        """A public reply: onto the ticket (with its status move, checked there), then into the customer's thread,
        both under the thread's lock so replies land in the same order on the ticket and in the thread."""
        if self.runner is None:
            raise TicketError("replies need the desk's thread runner: TicketDesk(runner)")
        who = self._member(actor)
        actor = who.id
        body = check_text(message)
        ticket = self.store.require(ticket_id)
        if ticket["status"] == "closed":
            raise TicketConflictError("ticket is closed; closed is final")
        event_id = uuid.uuid4().hex
        config = config_of(ticket["thread_id"])
        with self.runner.hold(ticket["thread_id"]):
            snapshot = self.runner.graph.get_state(config)
            if snapshot.interrupts:
                raise TicketConflictError(f"thread {ticket['thread_id']} is waiting for a review decision; "
                                          "decide it first")
            if cut_short(snapshot) or not snapshot.values:
                raise TicketConflictError(f"thread {ticket['thread_id']} has no finished turn to reply to")
            was = ticket["status"]
            event = self.store.add_event(ticket_id, "reply", actor, body, event_id=event_id, status=status,
                                         guard=unchanged(expect_status, scope.guard(who, f"moving the status to "
                                                                                      f"{status}") if status else None))
            message_ = AIMessage(content=body, name=f"agent:{actor}", id=f"reply-{event_id}")
            self.runner.graph.update_state(config, {"messages": [message_], "answer": body}, as_node="respond")
        evidence = {"reply": body, "message_id": message_.id, **({"from": was, "to": status} if status else {})}
        return self._audit(ticket_id, event, "ticket_reply", "public reply sent to the customer", evidence)

    def hand_back(self, ticket_id: str, actor: str, reason: str | None = None,
                  expect_status: str | None = None) -> dict:
        """The desk answers the customer again (app/store/handoff.py); the ticket stays as it is otherwise.
        The person holding it may, and whoever may move the ticket (its queue, the supervisor role)."""
        who = self._member(actor)
        moving = scope.guard(who, "handing the conversation back")

        def check(ticket: dict) -> None:
            if not ticket.get("held_by"):
                raise TicketConflictError(f"ticket {ticket_id} is not with a person; the desk already answers")
            if ticket["held_by"] != who.id:
                moving(ticket)

        held_by = self.store.require(ticket_id).get("held_by")
        event = self.store.add_event(ticket_id, "handback", who.id, check_text(reason) if reason else "handed back",
                                     guard=unchanged(expect_status, check))
        return self._audit(ticket_id, event, "ticket_handback", "conversation handed back to the desk",
                           {"from": held_by})

    def reopen_if_solved(self, thread_id: str) -> list[dict]:
        """After a customer's turn on `thread_id`: their solved tickets reopen, and ones waiting on them are open
        again. Tickets solved by an approved action are records and stay solved. Returns the events recorded."""
        moves = {"pending_customer": "open"}
        out = []
        for t in self.store.list(thread_id=thread_id, limit=10_000):
            target = "reopened" if reopenable(t) else moves.get(t["status"])
            if target is None:
                continue
            try:
                event = self.store.set_status(t["id"], target, CUSTOMER, "the customer wrote again")
            except TicketError:  # someone moved it meanwhile: theirs stands
                continue
            out.append(self._audit(t["id"], event, "ticket_status", f"status {t['status']} → {target}: the customer "
                                   "wrote again", {"from": t["status"], "to": target}, thread_id=thread_id))
        return out

    def _audit(self, ticket_id: str, event: dict, name: str, reason: str, evidence: dict[str, Any],
               thread_id: str | None = None) -> dict:
        thread_id = thread_id or self.store.require(ticket_id)["thread_id"]
        actor = event["actor"]
        self.services.audit.record(f"ticket:{ticket_id}:{event['id']}", thread_id, agent="tickets", event=name,
                                   reason=reason, actor=actor if actor == CUSTOMER else f"agent:{actor}",
                                   evidence={"ticket_id": ticket_id, "event_id": event["id"], **evidence})
        return {**event, "ticket": self.store.require(ticket_id)}


def unchanged(expect_status: str | None, then: Callable[[dict], None] | None = None) -> Callable[[dict], None]:
    """The optimistic check: with `expect_status` (the status the person saw when they opened the ticket), a change
    is refused if the ticket has moved since, say the customer wrote again or a colleague solved it; run on the
    ticket row under its lock, before `then` (the scope check)."""
    def check(ticket: dict) -> None:
        if expect_status is not None and ticket["status"] != expect_status:
            raise TicketConflictError(f"ticket {ticket['id']} changed since you opened it: it was {expect_status}, "
                                      f"it is now {ticket['status']}; look at it again, then retry")
        if then is not None:
            then(ticket)
    return check


def transcript(runner: ThreadRunner, thread_id: str) -> list[dict[str, str]]:
    """The thread's messages with who wrote them: "customer", "assistant", or "agent:<id>" for a person's reply."""
    messages = (runner.snapshot(thread_id).values or {}).get("messages", [])
    return [{"role": m.type, "content": str(m.content),
             "author": "customer" if m.type == "human" else (m.name or "assistant")} for m in messages]


def _actor(actor: str) -> str:
    return check_name(actor.removeprefix("agent:") if isinstance(actor, str) else actor, "actor")


def response_summary(rows: list[dict]) -> dict[str, Any]:
    """Median and worst time to first response and to resolution over `TicketStore.response_times()` rows."""
    out: dict[str, Any] = {"tickets": len(rows)}
    for key in ("first_response_s", "resolution_s"):
        values = [r[key] for r in rows if r[key] is not None]
        out[key] = {"n": len(values), "p50": statistics.median(values) if values else None,
                    "max": max(values) if values else None}
    return out
