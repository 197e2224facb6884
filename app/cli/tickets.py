"""`tickets ...`: list and work tickets — show, assign, reply to the customer, note, move the status.

Every change is audited with its actor. Text by default, `--json` everywhere; a refused change exits 2 with
`error: …` and records nothing.

A change is a team member's action, as `ingest` is: `--actor` is a person in the reviewer registry, proven by their
token (`SUPPORT_REVIEWER_TOKEN`, or `--token`, which `ps` shows), exactly as over HTTP or in the console; their
queues and roles then decide what they may change (app/ticket_scope.py). A wrong token, or a change outside their
scope, exits 77 (EX_NOPERM). Reading (`list`, `show`) needs no token: whoever runs the CLI already holds the data.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import typer

from app.cli.common import fail, print_json, services, settings

tickets_app = typer.Typer(help="Tickets: list, show and work them (assign, reply, note, status).",
                          no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print the result as JSON instead of text.")
ACTOR = typer.Option(..., "--actor", help="Who makes the change: your id in the reviewer registry (with --token); "
                                          "your queues and roles apply, and the audit trail names you.")
TOKEN = typer.Option(..., "--token", envvar="SUPPORT_REVIEWER_TOKEN", show_default=False,
                     help="Your secret token (prefer the environment variable: arguments show in `ps`).")
EXPECT = typer.Option(None, "--expect-status", help="The status you last saw: refused if the ticket has moved since "
                                                   "(the customer wrote again, a colleague solved it).")
EX_NOPERM = 77  # sysexits.h: permission denied (as `ingest`)


def _signed_in(actor: str, token: str) -> str:
    """The actor, once their token matches the registry's hash; nothing is looked up or written before that."""
    from agents.compliance.reviewers import ReviewerError, registry_for

    registry = registry_for(settings())  # unreadable: ReviewerError, exit 2 through _refusals
    try:
        return registry.authenticate(actor, token).id
    except ReviewerError as exc:
        fail(f"not permitted: {exc}", code=EX_NOPERM)


def _ops(with_runner: bool = False):
    """The ticket operations; only a reply needs the graph (it writes to the customer's thread)."""
    from app.cli.common import desk
    from app.ticket_ops import TicketDesk  # deferred: keeps `--help` fast

    if with_runner:
        return TicketDesk(desk().runner)
    return TicketDesk(services=services())


@contextmanager
def _refusals():
    from agents.compliance.reviewers import ReviewerError
    from app.store.thread_locks import ThreadBusyError
    from app.store.ticket_lifecycle import TicketError
    from app.thread_ids import InvalidThreadIdError
    from app.ticket_scope import TicketScopeError

    try:
        yield
    except ThreadBusyError as exc:  # EX_TEMPFAIL: nothing was recorded, run it again
        fail(f"thread busy, retry: {exc}", code=75)
    except TicketScopeError as exc:  # who is asking, not what they asked for
        fail(f"not permitted: {exc}", code=EX_NOPERM)
    except (TicketError, ReviewerError, InvalidThreadIdError) as exc:  # ReviewerError: an unreadable registry
        fail(str(exc))


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M UTC") if ts else "-"


def _done(result: dict, as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    t = result["ticket"]
    typer.echo(f"{t['id']}  {result['kind']} by {result['actor']}  → status {t['status']}, "
               f"assignee {t.get('assignee') or '-'}, queue {t.get('queue') or '-'}")


@tickets_app.command("list")
def tickets_list(
    as_json: bool = JSON,
    thread: str | None = typer.Option(None, help="Only this conversation's tickets."),
    status: str | None = typer.Option(None, help="Only this status (new, open, pending_customer, solved, closed, "
                                                 "reopened)."),
    queue: str | None = typer.Option(None, help="Only this queue."),
    assignee: str | None = typer.Option(None, help="Only tickets assigned to this person."),
) -> None:
    """Tickets, newest first."""
    from app.thread_ids import check_thread_id

    with _refusals():
        thread = check_thread_id(thread) if thread is not None else None
        rows = _ops().list(thread_id=thread, status=status, queue=queue, assignee=assignee)
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo("no tickets")
    for t in rows:
        typer.echo(f"{t['id']}  {t['status']:<16} {t['priority']:<6} {t['queue'] or '-':<14} "
                   f"{t.get('assignee') or '-':<10} {t['summary']}")


@tickets_app.command("show")
def tickets_show(ticket_id: str = typer.Argument(..., help="Ticket id, e.g. T-1A2B3C4D5E."),
                 as_json: bool = JSON) -> None:
    """One ticket with its replies, notes, assignments and status changes (the team's view)."""
    with _refusals():
        t = _ops().show(ticket_id)
    if as_json:
        print_json(t)
        return
    typer.echo(f"{t['id']}  {t['status']}" + (f" ({t['resolution']})" if t.get("resolution") else ""))
    for label, key in (("thread", "thread_id"), ("customer", "customer_id"), ("priority", "priority"),
                       ("queue", "queue"), ("assignee", "assignee"), ("summary", "summary")):
        typer.echo(f"  {label + ':':<10} {t.get(key) or '-'}")
    typer.echo(f"  {'created:':<10} {_when(t['created_at'])}")
    for label, key in (("first response", "first_response_s"), ("resolution", "resolution_s")):
        typer.echo(f"  {label}: " + (f"{t[key]:.0f} s" if t[key] is not None else "-"))
    for e in t["events"]:
        typer.echo(f"  [{_when(e['created_at'])}] {e['kind']:<6} {e['actor']}: {e['body']}")


@tickets_app.command("assign")
def tickets_assign(
    ticket_id: str = typer.Argument(..., help="Ticket id."),
    to: str = typer.Option(..., "--to", help="A person in the reviewer registry, or queue:NAME for one of its "
                                             "queues."),
    actor: str = ACTOR,
    token: str = TOKEN,
    expect_status: str | None = EXPECT,
    as_json: bool = JSON,
) -> None:
    """Assign the ticket to a person or a queue (a new ticket becomes open). Handing off to any queue is allowed;
    the ticket must be in a queue the actor works, unless they are a supervisor."""
    with _refusals():
        who = _signed_in(actor, token)
        _done(_ops().assign(ticket_id, who, to=to, expect_status=expect_status), as_json)


@tickets_app.command("reply")
def tickets_reply(
    ticket_id: str = typer.Argument(..., help="Ticket id."),
    actor: str = ACTOR,
    token: str = TOKEN,
    message: str = typer.Option(..., "--message", help="The public reply; the customer sees it in their chat."),
    status: str | None = typer.Option(None, help="Also move the ticket to this status, e.g. pending_customer "
                                                 "(as `status` does: the ticket's queue or the supervisor role)."),
    expect_status: str | None = EXPECT,
    as_json: bool = JSON,
) -> None:
    """Reply to the customer: the message joins their conversation (personal data redacted)."""
    with _refusals():
        who = _signed_in(actor, token)
        _done(_ops(with_runner=True).reply(ticket_id, who, message, status=status,
                                                   expect_status=expect_status), as_json)


@tickets_app.command("note")
def tickets_note(
    ticket_id: str = typer.Argument(..., help="Ticket id."),
    actor: str = ACTOR,
    token: str = TOKEN,
    message: str = typer.Option(..., "--message", help="The internal note; never shown to the customer."),
    expect_status: str | None = EXPECT,
    as_json: bool = JSON,
) -> None:
    """Add an internal note for the team."""
    with _refusals():
        who = _signed_in(actor, token)
        _done(_ops().note(ticket_id, who, message, expect_status=expect_status), as_json)


@tickets_app.command("status")
def tickets_status(
    ticket_id: str = typer.Argument(..., help="Ticket id."),
    to: str = typer.Option(..., "--to", help="new, open, pending_customer, solved, closed or reopened."),
    actor: str = ACTOR,
    token: str = TOKEN,
    reason: str | None = typer.Option(None, help="Why (recorded on the ticket)."),
    expect_status: str | None = EXPECT,
    as_json: bool = JSON,
) -> None:
    """Move the ticket through its lifecycle (closed is final; reopened only from solved). Needs the ticket's queue
    among the actor's, or the supervisor role."""
    with _refusals():
        who = _signed_in(actor, token)
        _done(_ops().status(ticket_id, who, to, reason=reason, expect_status=expect_status), as_json)


@tickets_app.command("handback")
def tickets_handback(
    ticket_id: str = typer.Argument(..., help="Ticket id."),
    actor: str = ACTOR,
    token: str = TOKEN,
    reason: str | None = typer.Option(None, help="Why (recorded on the ticket)."),
    expect_status: str | None = EXPECT,
    as_json: bool = JSON,
) -> None:
    """Hand the conversation back to the assistant: while a person holds it (they replied on its ticket or took it),
    the customer's messages go to them and the assistant stays silent. The holder, the ticket's queue or a
    supervisor may."""
    with _refusals():
        who = _signed_in(actor, token)
        _done(_ops().hand_back(ticket_id, who, reason=reason, expect_status=expect_status), as_json)
