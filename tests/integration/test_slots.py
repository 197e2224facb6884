"""Required details (slots) and several requests in one message, through the real graph (SQLite, Chroma,
local classifier): no policy decision and no ticket for an action that lacks its required arguments."""

from __future__ import annotations

import pytest

from agents.turn import slots
from agents.turn.understand import understand
from tests.helpers import scripted_desk

VERIFIED = {"id": "c-slots", "verified": True}


class Turn:
    """A turn's result plus the slots the desk asked for on that turn (read from the thread's state then)."""

    def __init__(self, result, asked: list[str]):
        self.result, self.asked = result, asked

    def __getattr__(self, name):
        return getattr(self.result, name)


def _talk(desk, *messages, customer=None) -> list[Turn]:
    """Send the messages on one thread; the turns in order."""
    out, tid = [], None
    for m in messages:
        r = desk.send(m, thread_id=tid, customer=customer)
        tid = r.thread_id
        out.append(Turn(r, desk.runner.snapshot(tid).values.get("missing") or []))
    return out


def _asked(desk, turn: Turn) -> list[str]:
    return turn.asked


def _args(ticket: dict) -> dict:
    return ticket["action"]["args"]


def test_cancel_without_order_number_asks_then_a_bare_number_completes_it(desk, services):
    first, second = _talk(desk, "cancel my order pls", "BW-61616")
    assert first.outcome == "needs_info" and first.intent == "cancel_order"
    assert "order number" in first.answer and first.answer.count("?") == 1
    assert _asked(desk, first) == ["order_id"]
    assert first.ticket_id is None and first.policy is None and first.route == []
    assert second.intent == "cancel_order" and second.outcome == "ticket_created"  # not a tracking question
    assert second.policy["rule_id"] == "cancel-order"
    (ticket,) = services.tickets.list()
    assert ticket["action"]["name"] == "cancel_order" and _args(ticket)["order_id"] == "BW-61616"


def test_refund_asks_for_order_and_amount_then_takes_both_from_one_reply(desk, services):
    first, second = _talk(desk, "I want a refund", "It's order BW-40404, $80, the speaker crackles")
    assert first.outcome == "needs_info" and first.pending_review is None
    assert _asked(desk, first) == ["order_id", "amount"]
    assert "order number" in first.answer and "amount" in first.answer
    assert second.outcome == "ticket_created" and second.policy["rule_id"] == "refund-auto-approve"
    (ticket,) = services.tickets.list()
    args = _args(ticket)
    assert (args["order_id"], args["amount"], args["currency"]) == ("BW-40404", 80.0, "USD")


def test_order_in_one_turn_amount_in_the_next(desk, services):
    first, second = _talk(desk, "refund please for BW-12345, it arrived broken", "$80")
    assert first.outcome == "needs_info" and _asked(desk, first) == ["amount"]
    assert "BW-12345" in first.answer and "how much" in first.answer.lower()
    assert second.outcome == "ticket_created" and second.intent == "refund_request"
    (ticket,) = services.tickets.list()
    assert (_args(ticket)["order_id"], _args(ticket)["amount"]) == ("BW-12345", 80.0)


@pytest.mark.parametrize("messages", [
    ("refund please for BW-12345", "I don't know the amount"),
    ("I'd like a refund for order #BW-73000 but I don't know how much it was",),
])
def test_a_customer_who_cannot_give_the_amount_gets_the_amount_unknown_review(desk, services, messages):
    r = _talk(desk, *messages)[-1]
    assert r.outcome == "escalated_pending_review"
    review = r.pending_review
    assert review["metadata"]["rule_id"] == "refund-amount-unknown"
    assert review["action_requests"][0]["args"]["missing"] == ["amount"]
    assert services.tickets.list() == []


def test_an_order_number_the_customer_cannot_find_is_asked_once_more_then_a_person_takes_over(desk, services):
    first, second, third = _talk(desk, "cancel my order pls", "I don't have the order number", "no idea sorry")
    assert first.outcome == second.outcome == "needs_info"
    assert "confirmation email" in second.answer  # the second question says where to find it
    assert third.outcome == "ticket_created" and third.policy["rule_id"] == "human-or-complaint"
    (ticket,) = services.tickets.list()
    assert ticket["action"]["name"] == "escalate" and _args(ticket)["missing"] == ["order_id"]


def test_a_question_parks_the_pending_action_and_a_later_bare_value_completes_it(desk, services):
    first, second, third = _talk(desk, "cancel my order pls", "How long does standard delivery take?", "BW-61616")
    assert second.intent == "shipping_info" and second.outcome == "answered" and second.grounded
    assert "still waiting for the order number" in second.answer
    assert third.intent == "cancel_order" and third.outcome == "ticket_created"
    assert [t["action"]["name"] for t in services.tickets.list()] == ["cancel_order"]


def test_never_mind_drops_the_pending_action(desk, services):
    first, second, third = _talk(desk, "cancel my order pls", "never mind", "where is my order BW-61616?")
    assert second.outcome == "answered" and "won't go ahead" in second.answer
    assert third.intent != "cancel_order"
    assert all(t["action"]["name"] != "cancel_order" for t in services.tickets.list())


def test_a_new_request_replaces_the_pending_one(desk, services):
    _, refund, later = _talk(desk, "cancel my order pls", "Please refund $30 for order BW-22222, it was damaged.",
                             "BW-33333")
    assert refund.intent == "refund_request" and refund.outcome == "ticket_created"
    assert later.intent != "cancel_order"
    assert [t["action"]["name"] for t in services.tickets.list()] == ["refund"]


def test_account_change_asks_which_detail_and_its_new_value(desk, services):
    first, second, third = _talk(desk, "Please change my account details.", "my email",
                                 "it is jane@new-mail.example.com", customer=VERIFIED)
    assert first.outcome == "needs_info" and _asked(desk, first) == ["field", "value"]
    assert second.outcome == "needs_info" and _asked(desk, second) == ["value"]
    assert "new email" in second.answer
    assert third.outcome == "ticket_created" and third.policy["rule_id"] == "account-change-verified"
    (ticket,) = services.tickets.list()
    assert _args(ticket)["field"] == "email" and _args(ticket)["value"] == "[EMAIL]"  # the address is in the vault
    assert "jane@" not in str(ticket)


def test_account_change_for_an_unverified_customer_is_refused_once_complete(desk, services):
    first, second = _talk(desk, "I got married, please change the surname on my account.", "Smith-Jones")
    assert first.outcome == "needs_info" and "new name" in first.answer
    assert second.outcome == "refused" and second.policy["rule_id"] == "account-change-needs-verified-identity"
    assert services.tickets.list() == []


def test_question_and_action_in_one_message_are_both_handled(desk, services):
    r = desk.send("Two things: how do I reset my password, and can you cancel order BW-31313?")
    assert r.outcome == "ticket_created" and r.route.count("research") == 2
    password, cancel = r.answer.split("\n\n", 1)[0], r.answer
    assert "password" in password.lower() and "BW-31313" in cancel and "approved" in cancel
    (ticket,) = services.tickets.list()
    assert ticket["action"]["name"] == "cancel_order" and _args(ticket)["order_id"] == "BW-31313"


def test_question_and_an_action_missing_its_order_ask_in_the_same_reply(desk, services):
    (r,) = _talk(desk, "How long does standard delivery take? Also, please cancel my order.")
    assert r.outcome == "needs_info" and _asked(desk, r) == ["order_id"]
    assert "business days" in r.answer and "Which order would you like to cancel?" in r.answer
    assert services.tickets.list() == []


def test_two_orders_with_two_amounts_are_two_actions(desk, services):
    # (the thread's total stays under the $500 automatic limit: the policy caps refunds per thread too)
    r = desk.send("Please refund $250 for #55120 and $120 for #55121, both arrived broken.")
    assert r.outcome == "ticket_created"
    tickets = sorted(services.tickets.list(), key=lambda t: _args(t)["order_id"])
    assert [(_args(t)["order_id"], _args(t)["amount"]) for t in tickets] == [("55120", 250.0), ("55121", 120.0)]
    decisions = [e for e in services.audit.entries(r.thread_id) if e["event"] == "policy_decision"]
    assert sorted(e["evidence"]["action"]["args"]["order_id"] for e in decisions) == ["55120", "55121"]


def test_an_escalating_risk_waits_at_most_one_question_and_is_never_approved_automatically(desk, services):
    r = desk.send("Someone hacked my account and ordered a $300 speaker I never wanted. Refund it.")
    assert r.outcome == "escalated_pending_review"  # a detail is known: the fraud team takes it now
    args = r.pending_review["action_requests"][0]["args"]
    assert r.pending_review["metadata"]["rule_id"] == "refund-fraud-signal" and args["missing"] == ["order_id"]
    cancel = desk.send("My account was hacked and someone placed an order with it, cancel it now")
    assert cancel.outcome == "needs_info" and "Which order" in cancel.answer  # no detail at all: asked once
    cancel = desk.send("no idea, I never saw the order", thread_id=cancel.thread_id)
    assert cancel.outcome == "escalated_pending_review"  # policy would allow a cancellation: missing order → review
    assert cancel.pending_review["metadata"]["rule_id"] == "missing-details"
    assert services.tickets.list() == []


@pytest.mark.parametrize("follow_up", ["how long until I see the money?", "when will I get it back?"])
def test_refund_timeline_follow_up_after_a_refund(desk, services, follow_up):
    _, follow = _talk(desk, "I want a refund of $80 for order BW-10101, it's faulty", follow_up)
    assert follow.outcome == "answered" and follow.grounded and follow.intent != "refund_request"
    assert "refund-timelines.md" in [c["doc_id"] for c in follow.citations]
    assert len(services.tickets.list()) == 1  # the follow-up is a question, not a second refund


def test_a_question_about_the_action_in_the_same_message_is_read_in_its_context(desk):
    r = desk.send("I want a refund of $40 for BW-10001 and also how long will it take?")
    assert r.outcome == "ticket_created"
    approval, rest = r.answer.split("\n\n", 1)
    assert "approved" in approval and "business days" in rest  # the refund timeline, after the approval


def test_an_unsure_amount_is_confirmed_before_use(services):
    """signals marks "$1.2k"-style amounts `amount_unsure`; the desk proposes the amount back instead of using it."""
    triage = {"intent": "refund_request", "kind": "action", "action": "refund", "category": "billing",
              "confidence": 0.99, "risk": [],
              "entities": {"order_ids": ["BW-12000"], "amount": 1200.0, "currency": "USD", "amount_unsure": True}}
    state = {"request": "refund $1.2k for BW-12000", "triage": triage, "messages": [], "turn": 1}
    first = understand(state, services)
    assert first["parts"][0]["reply"]["outcome"] == "needs_info" and first["missing"] == ["amount"]
    assert "USD 1,200.00" in first["parts"][0]["reply"]["text"]
    reply = {**triage, "intent": "product_question", "kind": "question", "confidence": 0.4, "entities": {}}
    second = understand({**state, "request": "yes", "triage": reply, "turn": 2, "pending": first["pending"]},
                        services)
    (part,) = second["parts"]
    assert part.get("reply") is None and part["triage"]["args"]["amount"] == 1200.0 and second["pending"] == []


# ---- the property: no policy decision and no ticket for an action without its required arguments ------------
CONVERSATIONS = [
    ["cancel my order pls"], ["cancel my order pls", "BW-61616"], ["I want to cancel an order"],
    ["please cancel it"], ["Cancel order BW-80100, wrong colour."], ["I want a refund"],
    ["refund me"], ["I want my money back"], ["Give me my money back for the headphones, they're rubbish."],
    ["I'd like a refund for order #BW-73000, the blender stopped working."], ["refund $40 please"],
    ["I want a refund", "BW-40404"], ["I want a refund", "$80"], ["I want a refund", "$80", "BW-40404"],
    ["refund for BW-12345", "I don't know the amount"], ["refund for BW-12345", "no idea, sorry"],
    ["Please refund $40 for order #48213"], ["Refund $900 for order #55120, it's broken"],
    ["change my account details"], ["Change the email on my account"], ["update my phone number"],
    ["I want to change my address", "12 High Street, Leeds"], ["change my email to someone@example.com"],
    ["close my account"], ["How do I reset my password? Also cancel my order."],
    ["Two things: where is my parcel, and can you refund me?"], ["cancel my order", "how do refunds work?"],
    ["cancel my order", "I don't have it", "don't know", "no"], ["refund $30", "never mind"],
    ["Refund $450 for #55120 and $450 for #55121"], ["cancel orders BW-11111 and BW-22222"],
    ["cancel my order and refund $50 for BW-33333"], ["I need a refund, I was charged twice"],
    ["pls cancel asap!!"], ["want refund now"], ["can you refund my last order"],
]


@pytest.mark.parametrize("customer", [None, VERIFIED])
def test_no_decision_and_no_ticket_for_an_action_without_its_required_arguments(desk, services, customer):
    for conversation in CONVERSATIONS:
        tid = None
        for message in conversation:
            r = desk.send(message, thread_id=tid, customer=customer)
            tid = r.thread_id
            if r.outcome == "needs_info":
                assert r.pending_review is None, (conversation, message)
            if r.pending_review:
                break  # a person has it now; what the customer may add meanwhile is another feature's business
    taxonomy = services.taxonomy
    actions = {spec.action: spec for spec in taxonomy.intents.values() if spec.kind == "action"}

    def complete(action: dict, decided_by_person: bool, effect: str | None) -> None:
        spec = actions.get(action["name"])
        if spec is None:
            return  # escalations and follow-ups need no slots
        args = action["args"]
        gaps = [s for s in spec.slots if args.get(s) in (None, "")]
        assert set(gaps) <= set(args.get("missing") or []), (action, "required argument neither given nor declared")
        if gaps:  # declared missing: only a person may let it through
            assert effect != "allow" and (decided_by_person or effect in ("review", "deny", None)), action

    tickets = services.tickets.list()
    for t in tickets:
        complete(t["action"], bool(t.get("reviewer")), None)
    decisions = [e for e in services.audit.entries() if e["event"] in ("policy_decision", "review_decision")]
    assert decisions, "the phrasings should reach the policy at least once"
    for e in decisions:
        effect = e["reason"].split(" ", 1)[0]
        complete(e["evidence"]["action"], e["event"] == "review_decision", effect)
    assert any(t["action"]["name"] in actions for t in tickets)


def test_slot_catalogue_matches_the_taxonomy(services):
    spec = services.taxonomy.describe("refund_request")
    assert slots.required(spec) == ["order_id", "amount"]
    assert slots.missing(spec, {"order_id": "BW-1", "missing": ["amount"]}) == []
    assert slots.unfilled(spec, {"order_id": "BW-1", "missing": ["amount"]}) == ["amount"]
    assert slots.required(services.taxonomy.describe("close_account")) == []


# ---- LLM mode: the same behaviour with the scripted model doing triage --------------------------------------
def test_slots_in_llm_mode(data_dir):
    with scripted_desk(data_dir) as (desk, svc, small, big):
        small.script["TriageResult"] = [
            {"intent": "refund_request", "confidence": 0.95, "order_id": "BW-40404"},
            {"intent": "billing_question", "confidence": 0.6, "amount": 80},  # a bare "$80": not a new request
        ]
        first, second = _talk(desk, "I need a refund for order BW-40404", "$80")
        assert first.outcome == "needs_info" and _asked(desk, first) == ["amount"]
        assert second.outcome == "ticket_created" and second.intent == "refund_request"
        (ticket,) = svc.tickets.list()
        assert (_args(ticket)["order_id"], _args(ticket)["amount"]) == ("BW-40404", 80.0)


def test_a_short_action_with_its_order_is_a_request_of_its_own(desk, services):
    """Before: "cancel BW-66021" was under three words, so it was joined to the question after it, and the
    cancellation was dropped."""
    r = desk.send("Two things: cancel BW-66021, and how long does standard delivery take for the replacement I'm "
                  "about to order?", customer={"id": "c-two", "verified": True})
    assert "3 to 5 business days" in r.answer and "66021" in r.answer, r.answer
    assert r.policy is not None and r.policy["rule_id"] == "cancel-order", r.policy

