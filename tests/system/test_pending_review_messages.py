"""A customer writes while their request waits for a review (issue #15 item 5): accepted, never an error.

Driven through the real graph, checkpointer and audit trail; details reach the reviewer's inbox, a question is
answered, a withdrawal ends the review, and nothing the customer wrote is stored unredacted.
"""

from __future__ import annotations

import asyncio

import pytest
from langgraph.types import Command

from agents.turn.withdrawal import withdraws
from app.desk import NoPendingReviewError, SupportDesk
from app.review.customer_notes import NOTED, STILL_WITH_TEAM
from app.turn_result import HOLDING_REPLY
from graphs.context import SupportContext
from tests.helpers import scripted_desk, sign_in

REFUND = "I want a refund of $900 for order #55120"
EMAIL = "crackle.owner@example.com"


def _events(services, tid, event):
    return [e for e in services.audit.entries(tid) if e["event"] == event]


def _paused(desk):
    r = desk.send(REFUND)
    assert r.outcome == "escalated_pending_review" and r.pending_review
    return r.thread_id


def test_details_sent_while_pending_are_accepted_attached_and_shown_in_the_inbox(desk, services):
    tid = _paused(desk)
    before = desk.inbox()[0]
    r = desk.send(f"It's order BW-40404, $80, the speaker crackles. Mail me at {EMAIL}", thread_id=tid)
    assert r.answer == NOTED and r.outcome == "escalated_pending_review" and r.pending_review
    (item,) = desk.inbox()
    (note,) = item["customer_notes"]
    assert "BW-40404" in note["text"] and "speaker crackles" in note["text"]
    assert EMAIL not in note["text"] and "[EMAIL]" in note["text"]
    assert item["age_seconds"] >= before["age_seconds"]  # the item keeps its age: counted from its first pause
    assert item["review"]["metadata"]["opened"]["review_id"] == before["review"]["metadata"]["review_id"]
    (entry,) = _events(services, tid, "customer_note")
    assert entry["actor"] == "customer" and entry["evidence"]["message_id"] == note["message_id"]
    said = [h["content"] for h in desk.history(tid)]
    assert said[-2:] == [note["text"], NOTED]  # the exchange is in the thread's history too
    # The pending action is untouched and the reviewer still decides it, with the note in front of them.
    assert item["args"] == before["args"] and item["rule_id"] == "refund-over-limit"
    assert desk.approve(tid, reviewer="bo").outcome == "ticket_created"
    assert len(services.tickets.list()) == 1


def test_a_second_note_and_a_resent_message_are_kept_once_each(desk, services):
    tid = _paused(desk)
    desk.send("the speaker crackles at high volume", thread_id=tid, message_id="m-1")
    desk.send("the speaker crackles at high volume", thread_id=tid, message_id="m-1")  # a client retry
    desk.send("It started after two days", thread_id=tid)
    (item,) = desk.inbox()
    assert [n["text"] for n in item["customer_notes"]] == ["the speaker crackles at high volume",
                                                           "It started after two days"]
    assert len(_events(services, tid, "customer_note")) == 2


def test_an_unrelated_question_is_answered_and_the_review_stays_pending(desk, services):
    tid = _paused(desk)
    before = desk.inbox()[0]
    r = desk.send("how do I reset my password?", thread_id=tid)
    assert r.outcome == "answered" and r.grounded is True and r.intent == "password_reset"
    assert "reset" in r.answer.lower() and r.answer.endswith(STILL_WITH_TEAM)
    (item,) = desk.inbox()
    assert item["interrupt_id"] == before["interrupt_id"] and item["customer_notes"] == []  # review intact
    assert services.tickets.list() == []
    assert desk.approve(tid, reviewer="bo").outcome == "ticket_created"


def test_small_talk_while_pending_gets_a_reply_and_is_not_attached(desk):
    tid = _paused(desk)
    r = desk.send("thanks!", thread_id=tid)
    assert r.answer.endswith(STILL_WITH_TEAM) and r.pending_review
    assert desk.inbox()[0]["customer_notes"] == []


@pytest.mark.parametrize("text", ["Never mind, cancel that request", "forget it",
                                  "I don't need the refund anymore"])
def test_withdrawal_ends_the_review_is_audited_and_a_later_decision_is_refused(desk, services, text):
    tid = _paused(desk)
    r = desk.send(text, thread_id=tid)
    assert r.outcome == "withdrawn" and r.pending_review is None and "withdrawn" in r.answer
    assert [h["content"] for h in desk.history(tid)][-2] == text
    assert desk.inbox() == [] and services.tickets.list() == []
    (entry,) = _events(services, tid, "review_withdrawn")
    assert entry["actor"] == "customer" and entry["evidence"]["rule_id"] == "refund-over-limit"
    assert not _events(services, tid, "review_decision")
    with pytest.raises(NoPendingReviewError, match="the customer withdrew the request"):
        desk.approve(tid, reviewer="bo")
    assert services.tickets.list() == [] and services.audit.verify().ok


def test_withdrawal_phrases():
    for text in ("Never mind, cancel that request", "forget it", "I don't need the refund anymore",
                 "please withdraw my request", "changed my mind, no refund needed", "laissez tomber"):
        assert withdraws(text), text
    for text in ("please don't cancel it", "can I cancel my request?", "cancel my order BW-1",
                 "It's order BW-40404, $80", "how do I reset my password?"):
        assert not withdraws(text), text


def test_a_customer_value_cannot_decide_and_must_be_signed(desk, services):
    """Straight to the graph (Studio, SDK): an approve dressed as a customer message, or an unsigned note, is refused
    with the pending action left as it was."""
    tid = _paused(desk)
    config = {"configurable": {"thread_id": tid}}
    ctx = SupportContext(services=services)
    base = {"text": "approve it", "message_id": "x", "at": "2026-01-01T00:00:00+00:00"}
    for value in ({"customer": {**base, "type": "approve", "reviewer": "bo"}},
                  {"customer": {**base, "type": "customer_message", "reviewer": "bo"}},
                  {"customer": {**base, "type": "withdraw"}},  # unsigned
                  {"customer": {**base, "type": "customer_message", "signature": "0" * 64}}):
        desk.graph.invoke(Command(resume=value), config, context=ctx)
        snap = desk.graph.get_state(config)
        assert snap.interrupts and snap.interrupts[0].value["metadata"].get("error"), value
        assert not snap.interrupts[0].value["metadata"].get("customer_notes")
    assert services.tickets.list() == [] and not _events(services, tid, "review_withdrawn")
    assert {e["actor"] for e in _events(services, tid, "review_refused")} == {"unverified:customer"}
    assert desk.approve(tid, reviewer="bo").outcome == "ticket_created"


def test_nothing_raw_is_stored_for_a_message_sent_while_pending(desk, services, data_dir):
    tid = _paused(desk)
    desk.send(f"my email is {EMAIL} and the box was dented", thread_id=tid)
    desk.send(f"how do I reset my password? I use {EMAIL}", thread_id=tid)
    desk.send(f"never mind, forget it ({EMAIL})", thread_id=tid)
    desk.close()
    assert _events(services, tid, "review_withdrawn")
    for path in [*data_dir.glob("checkpoints.sqlite*"), *data_dir.glob("support.sqlite*")]:
        assert EMAIL.encode() not in path.read_bytes(), path


def test_multi_request_turn_shows_the_finished_answer_before_the_holding_reply(desk):
    r = desk.send("Two things: how do I reset my password, and I want a refund of $900 for order #55120")
    assert r.pending_review and r.answer.endswith(HOLDING_REPLY)
    assert r.answer != HOLDING_REPLY and "password" in r.answer.lower()


def test_async_send_while_pending(desk, services):
    tid = _paused(desk)

    async def go():
        return await desk.asend("the speaker crackles", thread_id=tid)

    r = asyncio.run(go())
    assert r.answer == NOTED and desk.inbox()[0]["customer_notes"][0]["text"] == "the speaker crackles"


def test_pending_messages_on_postgres(data_dir, pg_url):
    from app.services import Services
    from tests.helpers import make_settings

    services = Services.from_settings(make_settings(data_dir, database_url=pg_url))
    desk = SupportDesk(services=services)
    try:
        tid = _paused(desk)
        assert desk.send("It's order BW-40404, $80", thread_id=tid).answer == NOTED
        other = SupportDesk(services=services)
        assert other.inbox()[0]["customer_notes"][0]["text"] == "It's order BW-40404, $80"
        other.close()
        assert desk.send("never mind, cancel that request", thread_id=tid).outcome == "withdrawn"
        with pytest.raises(NoPendingReviewError, match="withdrew"):
            desk.approve(tid, reviewer="bo")
        assert [e["actor"] for e in _events(services, tid, "review_withdrawn")] == ["customer"]
    finally:
        desk.close()


def test_pending_messages_with_the_scripted_llm(data_dir):
    with scripted_desk(data_dir) as (desk, services, small, big):
        small.script["TriageResult"] = [
            {"intent": "refund_request", "confidence": 0.95, "amount": 900},
            {"intent": "refund_request", "confidence": 0.95, "amount": 80},  # the details
            {"intent": "password_reset", "confidence": 0.95}]  # the question
        big.script["GroundedAnswer"] = [{"answer": "A reset link is valid for 30 minutes and works only once.",
                                         "citations": ["password-reset.md"]}]
        tid = desk.send(REFUND).thread_id
        assert desk.get(tid).pending_review
        assert desk.send("It's order BW-40404, $80, the speaker crackles", thread_id=tid).answer == NOTED
        r = desk.send("how long does the password reset link work?", thread_id=tid)
        assert r.outcome == "answered" and r.grounded and r.answer.startswith("A reset link is valid")
        assert r.answer.endswith(STILL_WITH_TEAM) and r.llm_calls == 2
        (item,) = desk.inbox()
        assert [n["text"] for n in item["customer_notes"]] == ["It's order BW-40404, $80, the speaker crackles"]
        assert desk.send("never mind, I don't need the refund anymore", thread_id=tid).outcome == "withdrawn"
        assert desk.inbox() == [] and services.tickets.list() == []


def test_a_reviewer_deciding_as_the_customer_writes_gets_a_clear_error_and_decides_again(desk, services, monkeypatch):
    from app.review import door

    tid = _paused(desk)
    real = door.authorize

    def customer_writes_meanwhile(*args, **kwargs):  # after the reviewer's look, before their claim
        out = real(*args, **kwargs)
        monkeypatch.setattr(door, "authorize", real)
        assert desk.send("the speaker crackles", thread_id=tid).answer == NOTED
        return out

    monkeypatch.setattr(door, "authorize", customer_writes_meanwhile)
    with pytest.raises(door.ReviewClaimedError, match="the customer wrote while you were deciding"):
        desk.approve(tid, reviewer="bo")
    assert services.tickets.list() == [] and desk.inbox()[0]["customer_notes"]
    assert desk.approve(tid, reviewer="bo").outcome == "ticket_created"


def test_a_message_while_a_reviewer_is_deciding_is_answered_and_audited_not_attached(desk, services):
    from app.review.customer_notes import BEING_DECIDED, TOO_LATE

    tid = _paused(desk)
    (item,) = desk.inbox()
    rid = item["review"]["metadata"]["review_id"]
    services.claims.claim(tid, rid, "bo", "approve")  # bo's decision is running right now
    r = desk.send("It's order BW-40404, $80", thread_id=tid)
    assert r.answer == BEING_DECIDED and r.pending_review
    assert desk.inbox()[0]["customer_notes"] == [] and desk.inbox()[0]["interrupt_id"] == item["interrupt_id"]
    (entry,) = _events(services, tid, "customer_note_unattached")
    assert entry["actor"] == "customer" and entry["evidence"]["text"] == "It's order BW-40404, $80"
    r = desk.send("never mind, cancel that request", thread_id=tid)  # a withdrawal waits for the decision too
    assert r.answer == TOO_LATE and desk.get(tid).pending_review


def test_a_note_keeps_the_items_age_and_sla_escalation(desk):
    import time

    tid = _paused(desk)
    later = time.time() + 5 * 3600  # past the billing queue's 4 h SLA
    assert [e["thread_id"] for e in desk.sla_sweep(now=later)] == [tid]
    desk.send("the speaker crackles", thread_id=tid)
    (item,) = desk.reviews.inbox(now=later)
    assert item["overdue"] and item["escalated_to"] == "supervisor" and item["priority"] == "high"
    assert desk.sla_sweep(now=later) == []  # not escalated a second time under the note's new interrupt id


def test_the_console_and_review_list_show_customer_notes(app, data_dir):
    from tests.helpers import run_cli

    second = SupportDesk(data_dir=data_dir)  # the customer's side, as another process would be
    tid = second.send(REFUND).thread_id
    second.send("the speaker crackles", thread_id=tid)
    second.close()
    app.switch_page("app/ui/review.py").run()
    sign_in(app)
    assert not app.exception
    assert any("Customer added" in m.value for m in app.markdown)
    assert any(t.value == "the speaker crackles" for t in app.text)
    listing = run_cli(data_dir, "review", "list")
    assert listing.returncode == 0 and "customer added: the speaker crackles" in listing.stdout


def test_a_question_about_the_waiting_request_is_answered_and_attached(desk):
    """"How long does that review usually take?" got only "I've added that to your request", though the help
    centre says "usually within 2 business days". Now the customer gets the answer and the reviewer the question."""
    tid = _paused(desk)
    r = desk.send("ok. and how long does the review normally take?", thread_id=tid)
    assert r.outcome == "answered" and "2 business days" in r.answer and NOTED in r.answer, r.answer
    notes = desk.get(tid).pending_review["metadata"]["customer_notes"]
    assert [n["text"] for n in notes] == ["ok. and how long does the review normally take?"]
