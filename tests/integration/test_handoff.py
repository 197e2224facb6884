"""Handoff (app/store/handoff.py): once a person replies on a ticket or takes it, the customer's messages go to
them — forwarded into the ticket, the person notified — and the desk neither answers nor opens another ticket,
until they hand it back or solve it. On the desk's real SQLite stores and checkpointer."""

from __future__ import annotations

import pytest

from app.ticket_ops import TicketConflictError, TicketScopeError
from app.turn_result import CustomerTurn

HUMAN = "I want to talk to a human about my order #48213, the parcel never arrived"
CUSTOMER = {"id": "c-hand"}


def taken(desk, how: str = "reply"):
    r = desk.send(HUMAN, customer=CUSTOMER)
    assert r.outcome == "ticket_created", r.answer
    if how == "reply":
        desk.tickets.reply(r.ticket_id, "ana", "Sorry about that. Can you send me the tracking number?")
    else:
        desk.tickets.assign(r.ticket_id, "ana", to="ana")
    return r.thread_id, r.ticket_id


def bot_messages(desk, thread_id: str) -> list[str]:
    return [m["content"] for m in desk.history(thread_id) if m["role"] == "ai" and not (m["name"] or "").startswith(
        "agent:")]


@pytest.mark.parametrize("how", ["reply", "assign"])
def test_the_customers_answer_goes_to_the_person_and_opens_no_ticket(desk, services, how):
    """Before: the customer's answer to the agent's question opened a duplicate ticket, and "Any news on the
    trace?" got a help-centre answer instead of reaching the agent."""
    thread_id, ticket_id = taken(desk, how)
    said = len(bot_messages(desk, thread_id))
    for text in ("It's 1Z999AA10123456784", "Any news on the trace? How long does delivery usually take?"):
        r = desk.send(text, thread_id=thread_id, customer=CUSTOMER)
        assert r.outcome == "with_person" and r.answer is None
        assert r.handoff == {"ticket_id": ticket_id, "agent": "ana", "name": "Ana"}
        assert CustomerTurn.of(r).talking_with == "Ana"
    assert [t["id"] for t in services.tickets.list(thread_id=thread_id)] == [ticket_id]
    assert len(bot_messages(desk, thread_id)) == said  # the desk said nothing more
    forwarded = services.tickets.events(ticket_id, kinds=("customer",))
    assert [e["body"] for e in forwarded][-1].startswith("Any news on the trace?")
    assert len(forwarded) == 2 and len([n for n in services.tickets.notifications(ticket_id)
                                        if n["channel"] == "agent:ana"]) == 2
    assert desk.history(thread_id)[-1]["content"].startswith("Any news")  # the thread still reads as one


def test_a_retried_message_is_forwarded_once(desk, services):
    thread_id, ticket_id = taken(desk)
    for _ in range(2):
        desk.send("here is the tracking number", thread_id=thread_id, customer=CUSTOMER, message_id="m-7")
    assert len(services.tickets.events(ticket_id, kinds=("customer",))) == 1


@pytest.mark.parametrize("ends", ["hand_back", "solve"])
def test_after_a_hand_back_or_a_solve_the_desk_answers_again(desk, services, ends):
    thread_id, ticket_id = taken(desk)
    if ends == "hand_back":
        desk.tickets.hand_back(ticket_id, "ana")
    else:
        desk.tickets.status(ticket_id, "ana", "solved")
    r = desk.send("How long do card refunds take?", thread_id=thread_id, customer=CUSTOMER)
    assert r.outcome == "answered" and "5 to 10 business days" in r.answer and r.handoff is None
    # A customer writing after a solve reopens the ticket, but the conversation is the desk's until a person
    # replies again.
    assert services.tickets.held(thread_id) is None


def test_only_the_holder_or_someone_who_may_move_the_ticket_hands_it_back(desk):
    thread_id, ticket_id = taken(desk)
    with pytest.raises(TicketScopeError):
        desk.tickets.hand_back(ticket_id, "sam")  # billing only; the ticket is customer-care's
    desk.tickets.hand_back(ticket_id, "ana")
    with pytest.raises(TicketConflictError, match="not with a person"):
        desk.tickets.hand_back(ticket_id, "ana")


@pytest.mark.parametrize("message", [
    # Before: the question before the request opened the message, so the request for a person was not read, the
    # message was split, and the customer got "Have your order number ready" beside the ticket.
    "where is my order BW-55120? I'd like to speak with an agent",
    "My parcel never arrived. Also, how do I reset my password? And I want to talk to a real person.",
])
def test_a_request_for_a_person_wins_over_the_rest_of_the_message(desk, services, message):
    r = desk.send(message, customer=CUSTOMER)
    assert r.intent == "human_agent" and r.outcome == "ticket_created", r.answer
    assert r.answer.startswith("I've passed this to our") and "Sources" not in r.answer, r.answer
    assert len(services.tickets.list(thread_id=r.thread_id)) == 1
