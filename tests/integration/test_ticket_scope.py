"""Ticket work scoped to the team (app/ticket_scope.py) on the desk's real SQLite stores and in the console: actors
are registry people, assignments name what exists, and another queue's ticket is moved only by its members or a
supervisor, judged on the ticket as it stands under its lock. HTTP and the CLI: tests/system/test_http_tickets.py,
tests/system/test_ticket_lifecycle.py; the red-team family: tests/system/test_redteam_tickets.py."""

from __future__ import annotations

import pytest

from app.store.tickets import TicketStore
from app.ticket_ops import TicketDesk, TicketScopeError, UnknownAssigneeError
from tests.helpers import make_settings, sign_in

HUMAN = "I want to talk to a human about my order #48213"  # a customer-care ticket, for a person


def made(store: TicketStore, queue: str | None, key: str = "k1") -> dict:
    ticket, _ = store.create(key, thread_id="t1", summary="s", action={}, policy={}, queue=queue)
    return ticket


def nothing_recorded(services, ticket: dict) -> None:
    now = services.tickets.require(ticket["id"])
    assert (now["status"], now["queue"], now["assignee"]) == (ticket["status"], ticket["queue"], ticket["assignee"])
    assert services.tickets.events(ticket["id"]) == []
    assert [e for e in services.audit.entries(ticket["thread_id"]) if e["agent"] == "tickets"] == []


def test_an_actor_off_the_registry_changes_nothing(desk):
    """On main any string was an actor: "lead" assigned, noted and closed, and the audit said agent:lead."""
    ops = desk.tickets
    r = desk.send(HUMAN, customer={"id": "c7"})
    t = desk.services.tickets.require(r.ticket_id)
    n = len(desk.history(r.thread_id))
    for change in (lambda: ops.assign(t["id"], "lead", to="ana"), lambda: ops.note(t["id"], "lead", "x"),
                   lambda: ops.status(t["id"], "lead", "closed"), lambda: ops.reply(t["id"], "lead", "hello")):
        with pytest.raises(TicketScopeError, match="unknown actor 'lead'"):
            change()
    nothing_recorded(desk.services, t)
    assert len(desk.history(r.thread_id)) == n


def test_an_unknown_actor_is_refused_before_the_ticket_is_looked_up(services):
    with pytest.raises(TicketScopeError, match="unknown actor"):  # not "unknown ticket": ids are not probed
        TicketDesk(services=services).note("T-NOPE", "mallory", "x")


@pytest.mark.parametrize(("kw", "match"), [
    ({"to": "nobody"}, "unknown person 'nobody'; people who work tickets: ana, bo, sam, lee, fay, max"),
    ({"to": "queue:nowhere"}, "unknown queue 'nowhere'; queues: billing, fraud, legal, general, customer-care"),
    ({"queue": "nowhere"}, "unknown queue 'nowhere'"),
    ({"to": "ana", "queue": "nowhere"}, "unknown queue 'nowhere'"),
])
def test_assignments_to_people_or_queues_that_do_not_exist_are_refused(services, kw, match):
    t = made(services.tickets, "general")
    with pytest.raises(UnknownAssigneeError, match=match):
        TicketDesk(services=services).assign(t["id"], "ana", **kw)
    nothing_recorded(services, t)


def test_another_queues_ticket_is_moved_by_its_members_or_a_supervisor(services):
    ops = TicketDesk(services=services)
    t = made(services.tickets, "fraud")
    for change in (lambda: ops.status(t["id"], "sam", "closed"), lambda: ops.status(t["id"], "bo", "solved"),
                   lambda: ops.assign(t["id"], "sam", to="sam"),
                   lambda: ops.assign(t["id"], "sam", to="queue:billing")):
        with pytest.raises(TicketScopeError, match="ticket .* is in queue 'fraud' and '(sam|bo)' works billing"):
            change()
    nothing_recorded(services, t)
    assert ops.note(t["id"], "sam", "seen this one before")["kind"] == "note"  # notes are open to the team
    assert ops.status(t["id"], "fay", "open")["ticket"]["status"] == "open"  # the fraud queue's own
    assert ops.status(t["id"], "max", "solved")["ticket"]["status"] == "solved"  # a supervisor, from the general queue
    assert ops.status(t["id"], "ana", "closed")["ticket"]["status"] == "closed"


def test_handing_off_is_allowed_and_the_new_queue_then_decides(services):
    ops = TicketDesk(services=services)
    t = made(services.tickets, "billing")
    handed = ops.assign(t["id"], "sam", to="sam", queue="fraud")["ticket"]  # to a queue sam does not work
    assert (handed["queue"], handed["assignee"], handed["status"]) == ("fraud", "sam", "open")
    with pytest.raises(TicketScopeError, match="queue 'fraud'"):  # being its assignee does not keep it
        ops.status(t["id"], "sam", "closed")
    with pytest.raises(TicketScopeError):
        ops.assign(t["id"], "sam", to="queue:billing")  # nor can it be pulled back
    assert ops.assign(t["id"], "fay", to="lee")["ticket"]["assignee"] == "lee"  # fraud hands it to a person
    assert [e["actor"] for e in services.tickets.events(t["id"])] == ["sam", "fay"]


def test_a_ticket_in_no_queue_or_a_retired_one_is_for_supervisors(services):
    ops = TicketDesk(services=services)
    for key, queue in (("k-none", None), ("k-retired", "retired")):
        t = made(services.tickets, queue, key=key)
        with pytest.raises(TicketScopeError, match="supervisor role"):
            ops.status(t["id"], "bo", "closed")
        assert ops.status(t["id"], "max", "closed")["ticket"]["status"] == "closed"


def test_the_scope_is_judged_on_the_ticket_under_its_lock(services, monkeypatch):
    """What the caller read a moment ago does not count: the row the write locks does."""
    ops = TicketDesk(services=services)
    store = services.tickets
    moved, stays = made(store, "billing", key="k-moved"), made(store, "fraud", key="k-stays")
    with store.db.connect() as c:  # another agent hands them over meanwhile
        c.execute("UPDATE tickets SET queue = 'fraud' WHERE id = ?", (moved["id"],))
        c.execute("UPDATE tickets SET queue = 'billing' WHERE id = ?", (stays["id"],))
    stale = {moved["id"]: moved, stays["id"]: stays}
    monkeypatch.setattr(store, "get", lambda ticket_id: stale.get(ticket_id))  # every read outside the lock
    with pytest.raises(TicketScopeError, match="queue 'fraud'"):
        ops.status(moved["id"], "sam", "closed")
    with pytest.raises(TicketScopeError, match="queue 'fraud'"):
        ops.assign(moved["id"], "sam", to="sam")
    assert ops.status(stays["id"], "sam", "open")["actor"] == "sam"  # billing now: sam's


def test_a_reply_moving_another_queues_ticket_reaches_no_one(desk):
    r = desk.send(HUMAN, customer={"id": "c7"})  # customer-care: only supervisors work it
    t = desk.services.tickets.require(r.ticket_id)
    n = len(desk.history(r.thread_id))
    with pytest.raises(TicketScopeError, match="moving the status to solved refused"):
        desk.tickets.reply(t["id"], "bo", "Sorted, closing.", status="solved")
    nothing_recorded(desk.services, t)
    assert len(desk.history(r.thread_id)) == n
    sent = desk.tickets.reply(t["id"], "bo", "A colleague will call you today.")  # a plain reply is fine
    assert sent["ticket"]["status"] == t["status"] and desk.history(r.thread_id)[-1]["name"] == "agent:bo"


# ---- the console --------------------------------------------------------------------------------------------------
def test_console_offers_only_reply_and_note_outside_the_agents_queue(app, data_dir):
    from app.desk import SupportDesk

    with SupportDesk(data_dir=data_dir) as d:
        tid = d.send(HUMAN, customer={"id": "cust-9"}).ticket_id  # customer-care
    app.switch_page("app/ui/workspace.py").run()
    sign_in(app, "bo", "demo-bo")
    assert any("not yours to change" in c.value and "'customer-care'" in c.value for c in app.caption)
    assert app.button(key=f"assign-{tid}").disabled and app.button(key=f"status-{tid}").disabled
    assert app.selectbox(key=f"reply-status-{tid}").options == ["Unchanged"]
    app.text_area(key=f"reply-text-{tid}").set_value("A colleague will call you today.")
    next(b for b in app.button if "Send reply" in b.label).click().run()
    assert not app.exception and any("Reply sent." in s.value for s in app.success)
    assert TicketStore(make_settings(data_dir).app_db).get(tid)["status"] == "open"  # as the graph opened it

    next(b for b in app.sidebar.button if b.key == "sign-out").click().run()
    sign_in(app, "max", "demo-max")  # a supervisor gets every control
    assert not any("not yours to change" in c.value for c in app.caption)
    assert not app.button(key=f"assign-{tid}").disabled and not app.button(key=f"status-{tid}").disabled
