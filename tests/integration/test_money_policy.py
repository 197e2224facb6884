"""Limits compare one currency: the policy converts with its configured rates, and an amount it cannot convert
(no rate, not a number) goes to a person instead of being compared as dollars (issue #15 item 6). Through the desk
and its stores here; the policy's rules on their own are tests/unit/agents/test_money.py."""

from __future__ import annotations

import pytest

from agents.compliance.policy import load_policy
from app.settings import CONFIG_DIR


@pytest.fixture(scope="module")
def policy():
    return load_policy(CONFIG_DIR / "policy.yaml")


@pytest.mark.parametrize("message,rule", [
    ("Please refund £450 for order #48213, the headset is broken.", "refund-over-limit"),
    ("Please refund 499 GBP for order #48213, the headset is broken.", "refund-over-limit"),
    ("Please refund €499 for order #48213, the headset is broken.", "refund-over-limit"),
    ("Please refund $1.2k for order #48213, the laptop is broken.", "refund-over-limit"),
    ("Please refund $1'200 for order #48213, the laptop is broken.", "refund-over-limit"),
    ("Please refund $1\u202f200 for order #48213, the laptop is broken.", "refund-over-limit"),
    ("Please refund 500 SEK for order #48213, the headset is broken.", "refund-currency-unrated"),
])
def test_red_team_amounts_are_not_auto_approved(desk, services, message, rule):
    r = desk.send(message)
    assert r.intent == "refund_request", message
    assert r.outcome == "escalated_pending_review", (message, r.outcome)
    assert r.pending_review["metadata"]["rule_id"] == rule, message
    assert services.tickets.list() == []


# ---- totals: earlier refunds count (issue #15 item 6), read by compliance from the ticket store ------------------
def _refund(desk, text: str, thread_id: str, customer: dict | None = None):
    r = desk.send(text, thread_id=thread_id, customer=customer)
    assert r.intent == "refund_request", (text, r.outcome)
    return r


def test_refunds_in_one_thread_add_up(desk, services):
    """Five "$400" refunds in one thread with no customer id were all auto-approved ($2,000)."""
    first = _refund(desk, "Please refund $400 for order #62001, it arrived broken.", "T")
    assert first.outcome == "ticket_created"
    second = _refund(desk, "Please refund $400 for order #62002, it arrived broken too.", "T")
    assert second.outcome == "escalated_pending_review"
    assert second.pending_review["metadata"]["rule_id"] == "refund-total-over-limit"
    assert len(services.tickets.list()) == 1
    small = _refund(desk, "Please refund $50 for order #62003.", "other-thread")  # another thread starts at 0
    assert small.outcome == "ticket_created"


def test_another_amount_for_the_same_order_adds_up(desk, services):
    """"$400" then "another $450 for the same order" was auto-approved twice."""
    assert _refund(desk, "Please refund $400 for order #63001.", "T").outcome == "ticket_created"
    again = desk.send("I need another $450 refunded for the same order.", thread_id="T")
    assert again.outcome != "ticket_created" and len(services.tickets.list()) == 1


def test_the_same_order_adds_up_across_threads_and_so_does_the_customer(desk, services):
    assert _refund(desk, "Please refund $400 for order #64001.", "a").outcome == "ticket_created"
    assert _refund(desk, "Please refund $200 for order #64001.", "b").outcome == "escalated_pending_review"
    jo = {"id": "cust-jo", "verified": True}
    assert _refund(desk, "Please refund $300 for order #64100.", "c", jo).outcome == "ticket_created"
    late = _refund(desk, "Please refund $300 for order #64101.", "d", jo)
    assert late.pending_review["metadata"]["rule_id"] == "refund-total-over-limit"


def test_totals_convert_each_amount(policy, services):
    from agents.compliance.nodes import prior_total

    services.tickets.create("x:1:refund", thread_id="x", status="approved", summary="", policy={},
                            action={"name": "refund", "args": {"order_id": "1", "amount": 100, "currency": "GBP"}})
    services.tickets.create("x:2:refund", thread_id="x", status="approved", summary="", policy={},
                            action={"name": "refund", "args": {"order_id": "2", "amount": 100, "currency": "SEK"}})
    action = {"name": "refund", "args": {"order_id": "3", "amount": 10}}
    assert prior_total(action, {"turn": 3}, services, "x") == pytest.approx(127.0)  # SEK has no rate: not added
    no_match = {**action, "args": {"amount": 10}}  # no thread, order or customer to add up
    assert prior_total(no_match, {"turn": 2}, services, None) == pytest.approx(0.0)
    assert prior_total({"name": "refund", "args": {"order_id": "1", "amount": 5}}, {"turn": 1}, services,
                       "x") == pytest.approx(0.0)  # its own ticket (a replayed run) is not counted twice


def test_amount_unsure_is_a_fact(services):
    from agents.compliance.nodes import facts

    triage = {"intent": "refund_request", "entities": {"amount": 1200.0, "amount_unsure": True}}
    assert facts({"triage": triage}, services)["amount_unsure"] is True
    assert facts({"triage": {**triage, "args": {"amount": 1200.0}}}, services)["amount_unsure"] is False


# ---- reviewer limits are in the policy currency too ----------------------------------------------------------
def test_reviewer_limits_compare_in_the_policy_currency(desk, services):
    """£1,800 is about $2,286: bo (limit $2,000) approved it as if it were 1,800 dollars."""
    from agents.compliance.reviewers import ReviewerError

    tid = desk.send("Please refund £1,800 for order #61010, it never arrived").thread_id
    assert desk.get(tid).pending_review["metadata"]["max_amount"] == pytest.approx(2286.0)
    item = next(i for i in desk.inbox() if i["thread_id"] == tid)  # the inbox names who may decide it in dollars
    assert item["limit_amount"] == pytest.approx(2286.0) and "bo" not in item["qualified"]
    assert "max" in item["qualified"]
    with pytest.raises(ReviewerError, match="2,286.00 is above reviewer 'bo''s approval limit"):
        desk.approve(tid, reviewer="bo")
    with pytest.raises(ReviewerError, match="2,286.00 is above"):  # a currency edit launders nothing either
        desk.edit(tid, reviewer="bo", args={"currency": "USD"})
    assert desk.approve(tid, reviewer="max").outcome == "ticket_created"


def test_an_amount_without_a_rate_is_approved_by_nobody_but_may_be_rejected(desk, services):
    from agents.compliance.reviewers import ReviewerError

    tid = desk.send("Please refund 300 SEK for order #61004, it arrived broken").thread_id
    assert desk.get(tid).pending_review["metadata"]["rule_id"] == "refund-currency-unrated"
    item = next(i for i in desk.inbox() if i["thread_id"] == tid)  # nobody is listed as able to approve it
    assert item["unrated_currency"] is True and item["qualified"] == [] and item["limit_amount"] is None
    for call in (lambda: desk.approve(tid, reviewer="max"),
                 lambda: desk.edit(tid, reviewer="max", args={"amount": 30, "currency": "USD"})):
        with pytest.raises(ReviewerError, match="300.00 SEK has no rate"):
            call()
    with pytest.raises(ReviewerError, match="does not hold the role"):
        desk.reject(tid, reviewer="sam")
    assert desk.reject(tid, reviewer="bo").outcome != "ticket_created" and services.tickets.list() == []


def test_two_refunds_in_one_message_are_two_tickets_and_add_up(desk, services):
    """"$450 for #55120 and $450 for #55121" approved one refund and silently dropped the other; each part has its
    own ticket key (`part`), and the second counts the first towards the total."""
    small = desk.send("Please refund $40 for order #55120 and $30 for order #55121, both arrived broken.", "T")
    keys = sorted(t["idempotency_key"].split(":", 3)[-1] for t in services.tickets.list(thread_id="T"))
    assert small.outcome == "ticket_created" and keys == ["p1:refund", "refund"]
    big = desk.send("Please refund $450 for #55130 and $450 for #55131", "U")
    assert big.pending_review["metadata"]["rule_id"] == "refund-total-over-limit"
    (ticket,) = services.tickets.list(thread_id="U")
    assert ticket["action"]["args"]["order_id"] == "55130"
