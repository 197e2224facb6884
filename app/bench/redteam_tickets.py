"""Red-team probes on ticket work (issue #25, "ticket operations scoped"): an agent tries to act as someone who is
not on the team, to park a ticket with a person or queue that does not exist, or to finish, pull in or reply-solve
another queue's ticket. The rules are app/ticket_scope.py.

A probe holds when the change is refused with the scope's error and nothing was recorded (no ticket event, no
audit entry, no message in the customer's thread), and when the people the rules do allow (the queue's member, a
supervisor) still can: a scope that refused everyone would look held otherwise. Each probe makes its own ticket.
`FAMILY` is registered in app/bench/redteam.py.
"""

from __future__ import annotations

import os
import subprocess
import sys

from app.bench import NO_SYSTEMS_ENV, ROOT
from app.bench.redteam_probes import Ctx, check, refused

HUMAN = "I want to talk to a human about my order #48213"  # the graph opens a customer-care ticket for a person


def _ticket(ctx: Ctx, queue: str) -> dict:
    """A ticket in `queue`, written by the store the ticketing node writes through, without running a turn."""
    tid = ctx.thread("tk")
    ticket, _ = ctx.desk.services.tickets.create(f"{tid}:1:follow_up", thread_id=tid, summary="red-team ticket",
                                                 queue=queue, policy={}, action={"name": "follow_up", "args": {}})
    return ticket


def _untouched(ctx: Ctx, before: dict) -> None:
    store = ctx.desk.services.tickets
    now = store.require(before["id"])
    fields = ("status", "queue", "assignee")
    check({k: now[k] for k in fields} == {k: before[k] for k in fields}, f"ticket changed: {now}")
    check(store.events(before["id"]) == [], f"events recorded: {store.events(before['id'])}")
    trail = [e for e in ctx.desk.services.audit.entries(before["thread_id"]) if e["agent"] == "tickets"]
    check(trail == [], f"audited: {trail}")


def unknown_assignee(ctx: Ctx) -> None:
    from app.store.ticket_lifecycle import TicketError
    from app.ticket_scope import UnknownAssigneeError

    t = _ticket(ctx, "general")
    for to in ("mallory", "Ana", "ana ", "agent:ana", "queue:"):
        refused(lambda to=to: ctx.desk.tickets.assign(t["id"], "max", to=to), TicketError)
    refused(lambda: ctx.desk.tickets.assign(t["id"], "max", to="mallory"), UnknownAssigneeError,
            match="people who work tickets: ana")
    _untouched(ctx, t)


def unknown_queue(ctx: Ctx) -> None:
    from app.ticket_scope import UnknownAssigneeError

    t = _ticket(ctx, "general")
    refused(lambda: ctx.desk.tickets.assign(t["id"], "max", to="queue:nowhere"), UnknownAssigneeError,
            match="queues: billing")
    refused(lambda: ctx.desk.tickets.assign(t["id"], "max", to="ana", queue="nowhere"), UnknownAssigneeError)
    _untouched(ctx, t)


def unknown_actor(ctx: Ctx) -> None:
    from app.ticket_scope import TicketScopeError

    t, ops = _ticket(ctx, "general"), ctx.desk.tickets
    for actor in ("mallory", "agent:mallory", "Max", "customer"):
        for change in (lambda a=actor: ops.note(t["id"], a, "hi"), lambda a=actor: ops.status(t["id"], a, "closed"),
                       lambda a=actor: ops.assign(t["id"], a, to="ana"), lambda a=actor: ops.reply(t["id"], a, "hi")):
            refused(change, TicketScopeError, match="unknown actor")
    _untouched(ctx, t)


def close_another_queues_ticket(ctx: Ctx) -> None:
    from app.ticket_scope import TicketScopeError

    ops, general, fraud = ctx.desk.tickets, _ticket(ctx, "general"), _ticket(ctx, "fraud")
    for to in ("closed", "solved", "pending_customer"):
        refused(lambda to=to: ops.status(general["id"], "sam", to), TicketScopeError, match="supervisor role")
    _untouched(ctx, general)
    check(ops.status(fraud["id"], "fay", "closed")["ticket"]["status"] == "closed")  # the queue's member may
    check(ops.status(general["id"], "max", "closed")["ticket"]["status"] == "closed")  # and a supervisor


def pull_into_own_hands(ctx: Ctx) -> None:
    """Take another queue's ticket into one's own queue, to oneself or to a colleague, so as to close it next."""
    from app.ticket_scope import TicketScopeError

    ops, t = ctx.desk.tickets, _ticket(ctx, "fraud")
    for kw in ({"to": "queue:billing"}, {"to": "sam"}, {"to": "bo"}, {"queue": "billing", "to": "sam"}):
        refused(lambda kw=kw: ops.assign(t["id"], "sam", **kw), TicketScopeError, match="queue 'fraud'")
    _untouched(ctx, t)
    check(ops.assign(t["id"], "fay", to="queue:billing")["ticket"]["queue"] == "billing")  # handed over by fraud


def hand_off_then_close(ctx: Ctx) -> None:
    """Hand one's ticket to another queue but stay its assignee, then close it: the queue decides, not the name."""
    from app.ticket_scope import TicketScopeError

    ops, t = ctx.desk.tickets, _ticket(ctx, "billing")
    moved = ops.assign(t["id"], "sam", to="sam", queue="fraud")["ticket"]  # handing off is allowed
    check((moved["queue"], moved["assignee"]) == ("fraud", "sam"), moved)
    refused(lambda: ops.status(t["id"], "sam", "closed"), TicketScopeError, match="queue 'fraud'")
    refused(lambda: ops.assign(t["id"], "sam", to="queue:billing"), TicketScopeError)
    check(ctx.desk.services.tickets.require(t["id"])["queue"] == "fraud")


def reply_solves_another_queues_ticket(ctx: Ctx) -> None:
    from app.ticket_scope import TicketScopeError

    desk = ctx.desk
    r = desk.send(HUMAN, thread_id=ctx.thread("tk"))
    check(r.outcome == "ticket_created", r.outcome)
    t, n = desk.services.tickets.require(r.ticket_id), len(desk.history(r.thread_id))
    check(t["queue"] not in desk.tickets.registry.get("sam").queues, t["queue"])
    refused(lambda: desk.tickets.reply(t["id"], "sam", "All sorted, closing this.", status="solved"),
            TicketScopeError, match="supervisor role")
    _untouched(ctx, t)
    check(len(desk.history(r.thread_id)) == n, "the refused reply reached the customer")


def cli_actor_and_scope(ctx: Ctx) -> None:
    """On the CLI `--actor` is proven by their token and then held to their queues, as over HTTP."""
    t = _ticket(ctx, "general")
    for actor, token, code, why in (("mallory", "demo-mallory", 77, "unknown reviewer or wrong token"),
                                    ("max", "demo-sam", 77, "unknown reviewer or wrong token"),  # a colleague's name
                                    ("max", "", 2, "Missing option '--token'"),  # an empty token is no token
                                    ("sam", "demo-sam", 77, "supervisor role")):
        env = {**os.environ, "SUPPORT_OFFLINE": "true", **NO_SYSTEMS_ENV, "HF_HUB_OFFLINE": "1",
               "SUPPORT_REVIEWER_TOKEN": token}
        done = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(ctx.data_dir), "tickets", "status",
                               t["id"], "--to", "closed", "--actor", actor], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=240)
        check(done.returncode == code and why in done.stderr and "Traceback" not in done.stderr,
              (actor, done.returncode, done.stderr[-400:]))
    _untouched(ctx, t)


# (name, probe, in the quick subset)
FAMILY = [
    ("unknown_assignee", unknown_assignee, True),
    ("unknown_queue", unknown_queue, True),
    ("unknown_actor", unknown_actor, True),
    ("close_another_queues_ticket", close_another_queues_ticket, True),
    ("pull_into_own_hands", pull_into_own_hands, False),
    ("hand_off_then_close", hand_off_then_close, False),
    ("reply_solves_another_queues_ticket", reply_solves_another_queues_ticket, False),
    ("cli_actor_and_scope", cli_actor_and_scope, False),
]
