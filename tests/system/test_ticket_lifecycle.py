"""People working tickets: the lifecycle, assignment, notes, replies into the customer's thread, the audit
trail, two agents replying at once (SQLite and PostgreSQL). The `tickets` CLI: tests/system/test_cli_tickets.py;
who may do what: tests/integration/test_ticket_scope.py."""

from __future__ import annotations

import json
import threading

import pytest

from app.desk import SupportDesk
from app.services import Services
from app.store.ticket_lifecycle import TicketError, UnknownTicketError
from app.store.tickets import TicketStore
from app.ticket_ops import TicketDesk, response_summary, transcript
from tests.helpers import REFUND, make_settings

HUMAN = "I want to talk to a human about my order #48213"


def escalated(desk) -> dict:
    """A ticket the graph opened for a person (the customer asked for a human)."""
    r = desk.send(HUMAN, customer={"id": "c7"})
    assert r.outcome == "ticket_created", r
    return desk.services.tickets.get(r.ticket_id)


def plain(store: TicketStore, key: str = "k1", **fields) -> dict:
    ticket, _ = store.create(key, thread_id="t1", summary="s", action={}, policy={}, **fields)
    return ticket


# ---- lifecycle ------------------------------------------------------------------------------------------------
def test_transitions_follow_the_lifecycle(services):
    ops = TicketDesk(services=services)
    t = plain(services.tickets)
    assert t["status"] == "new"
    for to in ("open", "pending_customer", "open", "solved", "reopened", "solved", "closed"):
        assert ops.status(t["id"], "ana", to)["ticket"]["status"] == to
    assert [e["body"] for e in services.tickets.events(t["id"])][-1] == "closed"


@pytest.mark.parametrize(("path", "bad", "why"), [
    ((), "reopened", "reopened only from solved"),
    (("open",), "reopened", "reopened only from solved"),
    (("solved", "closed"), "open", "closed is final"),
    (("solved", "closed"), "reopened", "closed is final"),
    (("open",), "open", "already open"),
    ((), "done", "unknown status 'done'"),
])
def test_invalid_transitions_are_refused_and_record_nothing(services, path, bad, why):
    ops = TicketDesk(services=services)
    t = plain(services.tickets)
    for to in path:
        ops.status(t["id"], "ana", to)
    before = services.tickets.events(t["id"])
    with pytest.raises(TicketError, match=why):
        ops.status(t["id"], "ana", bad)
    assert services.tickets.events(t["id"]) == before
    assert services.tickets.get(t["id"])["status"] == (path[-1] if path else "new")


def test_unknown_ticket_and_bad_actor_are_clear_errors(services):
    ops = TicketDesk(services=services)
    with pytest.raises(UnknownTicketError, match="unknown ticket 'T-NOPE'"):
        ops.note("T-NOPE", "ana", "x")
    t = plain(services.tickets)
    with pytest.raises(TicketError, match="invalid actor"):
        ops.note(t["id"], "ana smith", "x")
    with pytest.raises(TicketError, match="empty"):
        ops.note(t["id"], "ana", "   ")
    assert services.tickets.events(t["id"]) == []


def test_approved_status_reads_as_solved_with_its_resolution(services):
    store = services.tickets
    t = plain(store, status="approved")  # what agents/ticketing/nodes.py writes for an approved action
    assert (t["status"], t["resolution"], t["solved_at"]) == ("solved", "approved", t["created_at"])
    with store.db.connect() as c:  # a row written before the lifecycle
        c.execute("UPDATE tickets SET status = 'approved', resolution = NULL, solved_at = NULL WHERE id = ?",
                  (t["id"],))
    again = TicketStore(store.db).get(t["id"])
    assert (again["status"], again["resolution"]) == ("solved", "approved")
    assert TicketStore(store.db).response_times(t["id"])[0]["resolution_s"] == 0


def test_assignment_to_a_person_or_a_queue_opens_a_new_ticket(services):
    ops = TicketDesk(services=services)
    t = plain(services.tickets, queue="general")
    done = ops.assign(t["id"], "max", to="ana")["ticket"]
    assert (done["assignee"], done["queue"], done["status"]) == ("ana", "general", "open")
    done = ops.assign(t["id"], "max", to="queue:billing")["ticket"]
    assert (done["assignee"], done["queue"]) == ("ana", "billing")
    assert [t["id"] for t in ops.list(queue="billing", assignee="ana")] == [t["id"]]
    assert [e["kind"] for e in services.tickets.events(t["id"])] == ["assign", "assign"]


# ---- replies into the thread, notes kept internal, reopening, audit ---------------------------------------------
def test_reply_reaches_the_thread_and_the_customer_reopens_it(desk):
    ops = TicketDesk(desk.runner)
    t = escalated(desk)
    tid = t["thread_id"]
    ops.assign(t["id"], "max", to="ana")
    ops.note(t["id"], "ana", "VIP customer, call back at ana@example.com if needed")
    sent = ops.reply(t["id"], "ana", "Your parcel is at the depot; write to me at help@example.com.",
                     status="solved")
    assert sent["ticket"]["status"] == "solved" and sent["ticket"]["first_response_at"]

    history = desk.history(tid)
    assert history[-1] == {"role": "ai", "content": "Your parcel is at the depot; write to me at [EMAIL].",
                           "name": "agent:ana", "aside": False}  # who wrote it: the person, not the desk
    assert not any("VIP" in m["content"] for m in history)  # the note stays internal
    assert transcript(desk.runner, tid)[-1]["author"] == "agent:ana"
    assert desk.get(tid).answer == history[-1]["content"]
    assert "help@example.com" not in json.dumps(ops.show(t["id"]))  # redacted before storage

    again = desk.send("Thanks, but it is still not here.", thread_id=tid)
    assert again.thread_id == tid and again.answer
    history = desk.history(tid)
    assert [m["role"] for m in history[:4]] == ["human", "ai", "ai", "human"]  # the same conversation
    assert desk.services.tickets.get(t["id"])["status"] == "reopened"  # the desk reopened it on that message
    assert ops.reopen_if_solved(tid) == []  # nothing solved left

    story = [e for e in desk.services.audit.entries(tid) if e["agent"] == "tickets"]
    assert [(e["event"], e["actor"]) for e in story] == [
        ("ticket_assigned", "agent:max"), ("ticket_note", "agent:ana"), ("ticket_reply", "agent:ana"),
        ("ticket_status", "customer")]
    assert len({e["key"] for e in story}) == 4
    assert all(e["evidence"]["ticket_id"] == t["id"] for e in story)
    assert "ana@example.com" not in json.dumps(story)
    times = desk.services.tickets.response_times(t["id"])[0]
    assert times["first_response_s"] >= 0 and times["resolution_s"] is None  # reopened: not resolved now
    summary = response_summary(desk.services.tickets.response_times())
    assert summary["first_response_s"]["n"] == 1


def test_pending_customer_goes_back_to_open_and_approved_records_stay_solved(desk):
    ops = TicketDesk(desk.runner)
    t = escalated(desk)
    ops.reply(t["id"], "ana", "Which colour was it?", status="pending_customer")
    approved = plain(desk.services.tickets, key="k-approved", status="approved")
    with desk.services.tickets.db.connect() as c:
        c.execute("UPDATE tickets SET thread_id = ? WHERE id = ?", (t["thread_id"], approved["id"]))
    desk.send("It was blue.", thread_id=t["thread_id"])
    ops.reopen_if_solved(t["thread_id"])
    assert desk.services.tickets.get(t["id"])["status"] == "open"
    assert desk.services.tickets.get(approved["id"])["status"] == "solved"


def test_a_review_note_joins_the_ticket_on_every_door(desk):
    """The note reached the ticket from the CLI and HTTP only; the Python API and group decisions dropped it."""
    tid = desk.send(REFUND).thread_id
    result = desk.approve(tid, reviewer="bo", note="receipt checked, jane@example.com")
    events = desk.tickets.show(result.ticket_id)["events"]
    notes = [(e["kind"], e["actor"], e["body"]) for e in events if e["kind"] == "note"]
    assert len(notes) == 1 and notes[0][:2] == ("note", "bo") and notes[0][2].startswith("review note: receipt")
    assert "jane@example.com" not in notes[0][2]  # reviewer free text is redacted before storage


def test_reply_refused_while_a_review_is_pending_leaves_it_intact(desk):
    paused = desk.send(REFUND)
    assert paused.pending_review
    t = plain(desk.services.tickets, key="k-paused")
    with desk.services.tickets.db.connect() as c:
        c.execute("UPDATE tickets SET thread_id = ? WHERE id = ?", (paused.thread_id, t["id"]))
    with pytest.raises(TicketError, match="waiting for a review decision"):
        TicketDesk(desk.runner).reply(t["id"], "ana", "Hello from the team")
    assert desk.get(paused.thread_id).pending_review == paused.pending_review
    assert desk.services.tickets.events(t["id"]) == []
    assert desk.approve(paused.thread_id, reviewer="ana").outcome == "ticket_created"


def test_closed_ticket_takes_no_reply_or_assignment(desk):
    ops = TicketDesk(desk.runner)
    t = escalated(desk)
    ops.status(t["id"], "ana", "closed")
    n = len(desk.history(t["thread_id"]))
    for change in (lambda: ops.reply(t["id"], "ana", "late"), lambda: ops.assign(t["id"], "ana", to="bo")):
        with pytest.raises(TicketError, match="closed is final"):
            change()
    assert len(desk.history(t["thread_id"])) == n


# ---- two agents at once, both backends ------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, data_dir):
    if request.param == "sqlite":
        return {}
    return {"database_url": request.getfixturevalue("pg_url")}


def test_two_agents_replying_at_once_lose_nothing(data_dir, backend):
    svc = Services.from_settings(make_settings(data_dir, **backend))
    desks = [SupportDesk(services=svc), SupportDesk(services=Services.from_settings(make_settings(data_dir,
                                                                                                  **backend)))]
    try:
        t = escalated(desks[0])
        start, errors = threading.Barrier(2), []

        def reply(desk, who):
            start.wait()
            try:
                TicketDesk(desk.runner).reply(t["id"], who, f"Reply from {who}")
            except Exception as exc:  # surfaced below
                errors.append(exc)

        workers = [threading.Thread(target=reply, args=(d, w)) for d, w in zip(desks, ("ana", "bo"), strict=True)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert errors == []
        bodies = {"Reply from ana", "Reply from bo"}
        assert {e["body"] for e in svc.tickets.events(t["id"], kinds=("reply",))} == bodies
        assert bodies <= {m["content"] for m in desks[1].history(t["thread_id"])}
        ticket_order = [e["body"] for e in svc.tickets.events(t["id"], kinds=("reply",))]
        thread_order = [m["content"] for m in desks[0].history(t["thread_id"]) if m["content"] in bodies]
        assert ticket_order == thread_order
        assert len([e for e in svc.audit.entries(t["thread_id"]) if e["event"] == "ticket_reply"]) == 2
    finally:
        for d in desks:
            d.close()


# ---- the console: a signed-in person works the ticket, the customer's chat shows the reply ----------------------
def test_console_reply_and_solve_shows_in_the_chat(app, data_dir):
    from app.customers import sign_in as customer
    from app.desk import Principal
    from tests.helpers import customer_sign_in, sign_in

    settings = make_settings(data_dir)
    d = SupportDesk(services=Services.from_settings(settings))
    try:  # the customer wrote from the console, signed in
        r = d.send(HUMAN, caller=Principal("console", customer=customer(settings, "cus-1001", "demo-cus-1001")))
        t = d.services.tickets.get(r.ticket_id)
    finally:
        d.close()
    app.switch_page("app/ui/workspace.py").run()
    assert not [b for b in app.button if "Send reply" in b.label]  # no changes without a person
    sign_in(app)
    app.text_area(key=f"reply-text-{t['id']}").set_value("We found it, it ships today.")
    app.selectbox(key=f"reply-status-{t['id']}").set_value("solved")
    next(b for b in app.button if "Send reply" in b.label).click().run()
    assert not app.exception
    assert any("Reply sent." in s.value for s in app.success)
    assert any("We found it, it ships today." in m.value for m in app.markdown)  # in the activity
    assert TicketStore(make_settings(data_dir).app_db).get(t["id"])["status"] == "solved"
    app.switch_page("app/ui/chat.py").run()  # the customer's side: their own conversations only
    customer_sign_in(app, "cus-1001")
    next(s for s in app.sidebar.selectbox if s.label == "Reopen a conversation").select(t["thread_id"]).run()
    bubbles = [m for m in app.chat_message if m.markdown]
    assert any(m.markdown[-1].value == "We found it, it ships today." for m in bubbles)
    assert any("Reply from our support team" in c.value for m in bubbles for c in m.caption)
