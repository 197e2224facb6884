"""Trust boundaries at the desk (issue #25): a thread belongs to its channel and customer, a channel's message id
is one turn, customer facts come only from the caller's identity, and ids that look like personal data are
refused before anything is stored. The same checks over real HTTP: tests/system/test_http_boundaries.py."""

from __future__ import annotations

import pytest

from agents.supervisor.conversation import MessageError
from app.desk import MessageIdConflictError, UnknownThreadError
from app.identity import Customer, Principal
from app.thread_ids import PersonalIdError

REFUND = "I want a refund of $900 for order #55120"
SMALL = "I want a refund of $450 for order #{n}, it arrived broken"
WEB, EMAIL = Principal("http:web"), Principal("http:email")
JANE = Principal("http:web", customer=Customer(id="cus-1", verified=True))
JOHN = Principal("http:web", customer=Customer(id="cus-2", verified=True))


def test_another_channel_cannot_read_post_or_withdraw(desk):
    first = desk.send(REFUND, caller=WEB)
    tid = first.thread_id
    assert first.pending_review
    for call in (lambda: desk.get(tid, caller=EMAIL), lambda: desk.history(tid, caller=EMAIL),
                 lambda: desk.send("VIP, please approve", thread_id=tid, caller=EMAIL),
                 lambda: desk.send("never mind, cancel that request", thread_id=tid, caller=EMAIL),
                 lambda: list(desk.stream("never mind, cancel that request", thread_id=tid, caller=EMAIL))):
        with pytest.raises(UnknownThreadError, match="unknown thread"):
            call()
    assert desk.get(tid, caller=WEB).pending_review  # still waiting: nothing was withdrawn or noted
    assert not desk.inbox()[0].get("customer_notes")
    assert desk.get(tid).pending_review  # the server's own code (and the team) still reads it


def test_another_customer_of_the_same_channel_cannot_open_a_signed_thread(desk):
    tid = desk.send(REFUND, caller=JANE).thread_id
    with pytest.raises(UnknownThreadError):
        desk.get(tid, caller=JOHN)
    with pytest.raises(UnknownThreadError):
        desk.get(tid, caller=WEB)  # anonymous on the same channel
    assert desk.get(tid, caller=JANE).pending_review
    assert [t["thread_id"] for t in desk.threads_of(JANE)] == [tid] and desk.threads_of(JOHN) == []


def test_an_anonymous_thread_binds_to_the_customer_who_signs_in_on_it(desk):
    tid = desk.send("How do I reset my password?", caller=WEB).thread_id
    desk.send("Thanks, and where is my order?", thread_id=tid, caller=JANE)
    with pytest.raises(UnknownThreadError):
        desk.get(tid, caller=WEB)
    with pytest.raises(UnknownThreadError):
        desk.get(tid, caller=JOHN)


def test_a_thread_from_before_owners_is_not_open_to_channels(desk):
    tid = desk.send("How do I reset my password?", thread_id="legacy-1").thread_id
    with pytest.raises(UnknownThreadError):
        desk.send("hello", thread_id=tid, caller=WEB)


def test_a_retried_message_id_without_thread_id_is_one_turn(desk, services):
    body = SMALL.format(n=61201).replace("450", "120")
    first = desk.send(body, message_id="m-1", caller=WEB)
    again = desk.send(body, message_id="m-1", caller=WEB)
    assert again.thread_id == first.thread_id and again.ticket_id == first.ticket_id
    assert len(services.tickets.list()) == 1
    assert [m["role"] for m in desk.history(first.thread_id)] == ["human", "ai"]


def test_the_same_message_id_with_other_text_or_thread_is_a_conflict(desk):
    tid = desk.send("How do I reset my password?", message_id="m-2", caller=WEB).thread_id
    with pytest.raises(MessageIdConflictError, match="different message"):
        desk.send("I want a refund of $300 for order #61202", message_id="m-2", caller=WEB)
    with pytest.raises(MessageIdConflictError, match="another conversation"):
        desk.send("How do I reset my password?", thread_id="t-other", message_id="m-2", caller=WEB)
    assert len(desk.history(tid)) == 2
    # message ids are the channel's own: another channel may use the same one
    assert desk.send("Where is my order?", message_id="m-2", caller=EMAIL).thread_id != tid


def test_customer_facts_come_from_the_identity_not_the_caller(desk):
    with pytest.raises(MessageError, match="signed identity"):
        desk.send("Please close my account", customer={"verified": True}, caller=WEB)
    closed = desk.send("Please close my account", caller=WEB)
    assert closed.policy["effect"] == "deny"  # anonymous: no account changes
    verified = desk.send("Please close my account", caller=JANE)
    assert verified.policy["effect"] != "deny"


def test_anonymous_refunds_of_one_channel_share_one_budget(desk):
    results = [desk.send(SMALL.format(n=61300 + i), caller=WEB) for i in range(4)]
    assert results[0].outcome == "ticket_created"
    assert all(r.pending_review for r in results[1:]), [r.outcome for r in results]
    rules = {item["rule_id"] for item in desk.inbox()}
    assert rules <= {"refund-total-over-limit", "refund-frequent"}, rules


@pytest.mark.parametrize("value", ["jane.roe@example.com", "4111 1111 1111 1111", "+1 415 555 0100",
                                   "DE89370400440532013000"])
def test_ids_that_look_like_personal_data_are_refused(desk, services, value):
    with pytest.raises(PersonalIdError, match="personal data"):
        desk.send("How do I reset my password?", thread_id=value, caller=WEB)
    with pytest.raises(PersonalIdError, match="personal data"):
        desk.send("How do I reset my password?", message_id=value, caller=WEB)
    with pytest.raises(PersonalIdError):
        desk.send("How do I reset my password?", customer={"id": value})
    assert services.tickets.list() == [] and desk.runner.thread_ids() == []
    assert value not in str(services.audit.entries())
