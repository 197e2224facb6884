"""Limits compare one currency: the policy converts with its configured rates, and an amount it cannot convert
(no rate, not a number) goes to a person instead of being compared as dollars (issue #15 item 6)."""

from __future__ import annotations

import pytest

from agents.compliance.money import to_base
from agents.compliance.policy import PolicyError, load_policy
from app.settings import CONFIG_DIR


@pytest.fixture(scope="module")
def policy():
    return load_policy(CONFIG_DIR / "policy.yaml")


FACTS = {"intent": "refund_request", "risk": [], "identity_verified": False}


def _rule(policy, args: dict, **facts) -> str:
    return policy.evaluate({"name": "refund", "args": args}, {**FACTS, **facts})["rule_id"]


@pytest.mark.parametrize("args,rule", [
    ({"amount": 450, "currency": "GBP"}, "refund-over-limit"),  # $571.50: was auto-approved as "$450"
    ({"amount": 499, "currency": "GBP"}, "refund-over-limit"),
    ({"amount": 499, "currency": "EUR"}, "refund-over-limit"),  # $538.92
    ({"amount": 450, "currency": "EUR"}, "refund-auto-approve"),  # $486
    ({"amount": 300, "currency": "EUR"}, "refund-auto-approve"),
    ({"amount": 900, "currency": "CHF"}, "refund-over-limit"),
    ({"amount": 60000, "currency": "JPY"}, "refund-auto-approve"),  # $402
    ({"amount": 500, "currency": "SEK"}, "refund-currency-unrated"),  # no rate: a person decides
    ({"amount": 40, "currency": "XXX"}, "refund-currency-unrated"),  # a mark that names no single currency
    ({"amount": float("nan")}, "refund-currency-unrated"),  # not a number is never "within the limit"
    ({"amount": "40"}, "refund-currency-unrated"),
    ({"amount": 40}, "refund-auto-approve"),  # no currency: the policy currency, as before
    ({"amount": 40, "currency": "USD"}, "refund-auto-approve"),
    ({}, "refund-amount-unknown"),
])
def test_limits_compare_in_the_policy_currency(policy, args, rule):
    assert _rule(policy, args) == rule


def test_unsure_amount_and_running_total_go_to_review(policy):
    assert _rule(policy, {"amount": 400}, amount_unsure=True) == "refund-amount-unsure"
    assert _rule(policy, {"amount": 400}, prior_total=400) == "refund-total-over-limit"  # $800 together
    assert _rule(policy, {"amount": 50}, prior_total=400) == "refund-auto-approve"
    assert _rule(policy, {"amount": 300, "currency": "GBP"}, prior_total=150) == "refund-total-over-limit"
    trace = dict(policy.explain({"name": "refund", "args": {"amount": 400}}, {**FACTS, "prior_total": 400}))
    assert trace["refund-total-over-limit"] == [] and trace["refund-auto-approve"] == []


def test_to_base(policy):
    assert policy.to_base(100, "GBP") == pytest.approx(127.0)
    assert policy.to_base(100, None) == 100 and policy.to_base(None, "USD") is None
    assert policy.to_base(100, "NZD") is None and policy.to_base(float("inf"), "USD") is None
    assert to_base(5, "usd", None) == 5 and to_base(5, "EUR", None) is None


@pytest.mark.parametrize("line,needle", [
    ("currency_rates: {usd: 1.0}", "'usd' is not an ISO 4217 currency code"),
    ("currency_rates: {XYZ: 1.0}", "'XYZ' is not an ISO 4217 currency code"),
    ("currency_rates: {EUR: -1}", "currency_rates.EUR: Input should be greater than 0"),
    ("currency_rates: {EUR: .nan}", "currency_rates.EUR: Input should be a finite number"),
    ("currency_rates: {USD: 2}", "currency_rates.USD must be 1"),
    ("currency: EURO", "currency: 'EURO' is not an ISO 4217"),
    ("when_rates: {}", "when_rates"),
])
def test_invalid_currency_config_names_the_field(tmp_path, line, needle):
    f = tmp_path / "p.yaml"
    f.write_text(f"version: 1\n{line}\nrules:\n  - {{id: a, effect: allow}}\n")
    with pytest.raises(PolicyError) as exc:
        load_policy(f)
    assert str(f) in str(exc.value) and needle in str(exc.value)


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
