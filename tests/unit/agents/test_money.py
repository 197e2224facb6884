"""Limits compare one currency: the policy converts with its configured rates, and an amount it cannot convert
(no rate, not a number) goes to a person instead of being compared as dollars (issue #15 item 6). The policy and
agents/compliance/money.py on their own; the same rules through the desk are tests/integration/test_money_policy.py."""

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
