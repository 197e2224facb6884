"""Who may work which ticket: the trust boundary of the ticket desk (issue #25).

The team is the reviewer registry (agents/compliance/reviewers.py): one list of people, with their roles and the
queues they work, for review decisions and tickets alike, so there is no second roster to drift from the first.

* **The actor is a registry person who works tickets**: one who works a queue or holds the `supervisor` role. The
  registry also lists people who take no tickets (a knowledge editor: no queue); they do not answer customers.
  HTTP and the console take the actor from the signed-in token, the CLI from `--actor` with that person's token
  (as `ingest` does); the Python API is the server's own code and vouches for the name it passes, which must still
  be such a person. Anyone else is refused (403) before the ticket is even looked up, so ticket ids cannot be
  probed with a made-up name.
* **Assignments name only what exists**: a person in the registry who works tickets, a queue the registry defines.
  Anything else is refused (400) with the people or queues there are, so a typo cannot park a ticket where nobody
  looks.
* **Moving the status needs the ticket's queue.** Any status change, a reply's included, needs an actor who works
  the ticket's queue (`Reviewer.queues`) or holds the `supervisor` role; otherwise 403. A ticket in no queue, or in
  one the registry no longer defines, is nobody's, so only supervisors move it. Being the assignee is not enough:
  putting a ticket in someone's queue is how it is given to them to finish, which keeps one rule, and no loophole
  where a ticket handed to another queue stays closable by whoever was assigned before.
* **Assigning is handing off, and handing off is normal**: the destination may be any existing queue or person,
  worked by the actor or not. What is scoped is the ticket being handed: the actor must be allowed to move it (its
  queue, or supervisor). So nobody pulls another queue's ticket to themselves, to a colleague or into their own
  queue (and then closes it); that queue's members or a supervisor hand it over.
* **Replies and internal notes are open to the whole team.** Answering a customer and leaving context for a
  colleague are everyday work across queues, and the escalation queues (customer-care, orders, accounts) have no
  members but supervisors in the shipped registry. The scope guards who finishes a ticket and where it lives.

The queue check runs on the ticket row as it stands under the store's per-ticket lock (the `guard` of TicketStore's
writes), so a ticket handed to another queue a moment earlier is judged in its new queue, not the one the caller
read.
"""

from __future__ import annotations

from collections.abc import Callable

from agents.compliance.reviewers import Registry, Reviewer, ReviewerError
from app.store.ticket_lifecycle import TicketError

SUPERVISOR = "supervisor"

__all__ = ["SUPERVISOR", "TicketScopeError", "UnknownAssigneeError", "check_targets", "guard", "member", "why_not",
           "works_tickets"]


class TicketScopeError(TicketError, ReviewerError):
    """The actor may not do this to this ticket. A ReviewerError, so the HTTP API answers 403, and a TicketError, so
    every caller that reports refused ticket changes (the CLI, the console, a review note) reports this one too."""


class UnknownAssigneeError(TicketError):
    """An assignment to a person or a queue the registry does not have (HTTP 400: the request names it)."""


def member(registry: Registry, actor: str) -> Reviewer:
    """The registry person acting; the audit trail's "agent:<id>" then names someone the team knows."""
    try:
        person = registry.get(actor)
    except ReviewerError:
        raise TicketScopeError(f"unknown actor {actor!r}: ticket changes are made by people in the reviewer "
                               f"registry {registry.source}".rstrip()) from None
    if not works_tickets(person):
        raise TicketScopeError(f"{actor!r} works no queue: tickets are worked by the people of a queue or a "
                               f"{SUPERVISOR}")
    return person


def works_tickets(person: Reviewer) -> bool:
    return bool(person.queues) or SUPERVISOR in person.roles


def check_targets(registry: Registry, person: str | None, queue: str | None) -> None:
    """Refuse an assignee or queue the registry does not define, naming the ones it does. An assignee must work
    tickets too: a ticket given to someone who takes none is as parked as one given to nobody."""
    people = [r.id for r in registry.reviewers if works_tickets(r)]
    if person is not None and person not in people:
        known = any(r.id == person for r in registry.reviewers)
        raise UnknownAssigneeError(f"{'person' if known else 'unknown person'} {person!r}"
                                   f"{' works no queue' if known else ''}; people who work tickets: "
                                   f"{', '.join(people)}")
    if queue is not None and queue not in registry.queues:
        raise UnknownAssigneeError(f"unknown queue {queue!r}; queues: {', '.join(registry.queues)}")


def why_not(reviewer: Reviewer, ticket: dict) -> str | None:
    """Why `reviewer` may not move `ticket` (its status, or to another queue or person); None when they may."""
    queue = ticket.get("queue")
    if SUPERVISOR in reviewer.roles or (queue and queue in reviewer.queues):
        return None
    where = f"in queue {queue!r}" if queue else "in no queue"
    works = ", ".join(reviewer.queues) or "no queue"
    return (f"ticket {ticket['id']} is {where} and {reviewer.id!r} works {works}: it takes a member of "
            f"{'that queue' if queue else 'a queue'} or the {SUPERVISOR} role")


def guard(reviewer: Reviewer, doing: str) -> Callable[[dict], None]:
    """The check a TicketStore write runs on the locked ticket row before it changes anything."""
    def check(ticket: dict) -> None:
        why = why_not(reviewer, ticket)
        if why:
            raise TicketScopeError(f"{doing} refused: {why}")
    return check
