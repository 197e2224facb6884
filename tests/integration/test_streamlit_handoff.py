"""The workspace cannot misdirect, and the chat says who the customer is talking with (app/ui/workspace.py,
app/ui/ticket_work.py, app/ui/chat.py; the store side: tests/integration/test_handoff.py). Under Streamlit's
AppTest, with a second desk on the same data directory writing as the customer would."""

from __future__ import annotations

from tests.helpers import sign_in

UNANSWERABLE = "Do you ship to Antarctica by drone?"  # nothing in the sample help centre covers it
HUMAN = "I want to talk to a human about my order #48213"


def _workspace(app):
    app.switch_page("app/ui/workspace.py").run()
    assert not app.exception
    return app


def _open(app, ticket_id: str):
    return next(s for s in app.selectbox if s.label == "Open").set_value(f"ticket:{ticket_id}").run()


def _open_ticket(app) -> str:
    return next(h.value for h in app.subheader if h.value.startswith("Ticket ")).split()[1]


def test_a_refresh_never_changes_which_ticket_is_open(app, second_desk):
    """Before: about 10 s after an agent opened ticket A, the auto-refresh switched the pane to the top ticket B
    (the same customer's other conversation), and the reply and "Solved" went to B."""
    a = second_desk.send(UNANSWERABLE, customer={"id": "cust-5"})
    b = second_desk.send(HUMAN, customer={"id": "cust-5"})  # newer: B is on top
    _workspace(app)
    sign_in(app)
    _open(app, a.ticket_id)
    assert _open_ticket(app) == a.ticket_id
    second_desk.send("hello? anyone?", thread_id=b.thread_id, customer={"id": "cust-5"})  # B moves, A stays
    second_desk.send("Do you ship to the South Pole?", customer={"id": "cust-6"})  # a new ticket on top
    app.run()  # what the refresh does
    assert _open_ticket(app) == a.ticket_id
    app.text_area(key=f"reply-text-{a.ticket_id}").set_value("We don't ship there, sorry.")
    next(b_ for b_ in app.button if "Send reply" in b_.label).click().run()
    assert [e["kind"] for e in second_desk.tickets.show(a.ticket_id)["events"]] == ["reply"]
    assert [e["kind"] for e in second_desk.tickets.show(b.ticket_id)["events"]] == []


def test_a_reply_to_a_ticket_that_moved_meanwhile_is_refused_and_keeps_its_text(app, second_desk):
    made = second_desk.send(UNANSWERABLE, customer={"id": "cust-7"})
    tid = made.ticket_id
    _workspace(app)
    sign_in(app)
    _open(app, tid)
    second_desk.tickets.status(tid, "ana", "solved")  # a colleague solved it while the agent was typing
    app.text_area(key=f"reply-text-{tid}").set_value("We ship there by air freight.")
    next(b for b in app.button if "Send reply" in b.label).click().run()
    assert any("changed since you opened it" in e.value for e in app.error)
    assert second_desk.tickets.show(tid)["events"][-1]["kind"] == "status"  # no reply landed
    assert app.text_area(key=f"reply-text-{tid}").value == "We ship there by air freight."
    next(b for b in app.button if "Send reply" in b.label).click().run()  # looked again, sends on purpose
    assert second_desk.tickets.show(tid)["events"][-1]["kind"] == "reply"


def test_the_agent_sees_who_holds_the_conversation_and_hands_it_back(app, second_desk):
    made = second_desk.send(HUMAN, customer={"id": "cust-8"})
    second_desk.tickets.reply(made.ticket_id, "ana", "Hi, Ana here. What's the tracking number?")
    _workspace(app)
    sign_in(app)
    _open(app, made.ticket_id)
    assert any("talking with you" in i.value for i in app.info)
    next(b for b in app.button if b.key == f"handback-{made.ticket_id}").click().run()
    assert second_desk.services.tickets.held(made.thread_id) is None
    assert any("Handed back" in s.value for s in app.success)
