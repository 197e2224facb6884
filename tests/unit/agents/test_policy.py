"""Policy-as-code: schema validation with clear errors, first-match semantics."""

from __future__ import annotations

import pytest

from agents.compliance.policy import PolicyError, load_policy
from app.settings import CONFIG_DIR


@pytest.fixture
def policy():
    return load_policy(CONFIG_DIR / "policy.yaml")


def _facts(**kw):
    return {"intent": "refund_request", "risk": [], "identity_verified": False, **kw}


@pytest.mark.parametrize("amount,effect,rule", [
    (40, "allow", "refund-auto-approve"), (500, "allow", "refund-auto-approve"),
    (500.01, "review", "refund-over-limit"), (900, "review", "refund-over-limit"),
    (None, "review", "refund-amount-unknown"),
])
def test_refund_limits(policy, amount, effect, rule):
    args = {} if amount is None else {"amount": amount}
    d = policy.evaluate({"name": "refund", "args": args}, _facts())
    assert (d["effect"], d["rule_id"]) == (effect, rule)
    assert d["policy_version"].startswith("2026-11-core@")


def test_legal_threat_beats_auto_approval(policy):
    d = policy.evaluate({"name": "refund", "args": {"amount": 10}}, _facts(risk=["legal_threat"]))
    assert d["effect"] == "review" and d["reviewer_role"] == "legal"


def test_account_change_requires_verification(policy):
    assert policy.evaluate({"name": "account_change", "args": {}}, _facts())["effect"] == "deny"
    assert policy.evaluate({"name": "account_change", "args": {}}, _facts(identity_verified=True))["effect"] == "allow"


def test_unknown_action_falls_to_default_review(policy):
    assert policy.evaluate({"name": "wire_money", "args": {}}, _facts())["rule_id"] == "default-review"


@pytest.mark.parametrize("text,needle", [
    ("version: 1\nrules:\n  - id: r1\n    effect: maybe\n", "rule 'r1', field effect"),
    ("version: 1\nrules:\n  - id: r2\n    effect: review\n", "rule 'r2'"),
    ("version: 1\nrules:\n  - id: r3\n    effect: allow\n    when: {amount_over: 5}\n", "field when.amount_over"),
    ("version: 1\nrules: []\n", "rules"),
    ("rules: [\n", "not valid YAML"),
    ("- just a list\n", "expected a mapping"),
    ("version: 1\nrules:\n  - {id: a, effect: allow}\n  - {id: a, effect: allow}\n", "duplicate rule id"),
])
def test_invalid_policy_errors_name_file_rule_field(tmp_path, text, needle):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(PolicyError) as exc:
        load_policy(f)
    assert str(f) in str(exc.value) and needle in str(exc.value)


def test_missing_policy_file(tmp_path):
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nope.yaml")


def test_policy_version_changes_with_content(tmp_path, policy):
    f = tmp_path / "p.yaml"
    f.write_text((CONFIG_DIR / "policy.yaml").read_text().replace("amount_lte: 500", "amount_lte: 400"))
    assert load_policy(f).version_id != policy.version_id


def test_fraud_and_frequency_signals(policy):
    fraud = policy.evaluate({"name": "refund", "args": {"amount": 10}}, _facts(risk=["fraud"]))
    assert (fraud["effect"], fraud["rule_id"]) == ("review", "refund-fraud-signal")
    frequent = policy.evaluate({"name": "refund", "args": {"amount": 10}}, _facts(refunds_30d=3))
    assert frequent["rule_id"] == "refund-frequent"
    assert policy.evaluate({"name": "refund", "args": {"amount": 10}}, _facts(refunds_30d=2))["effect"] == "allow"


def test_explain_names_failed_conditions(policy):
    trace = dict(policy.explain({"name": "refund", "args": {"amount": 900}}, _facts()))
    assert trace["refund-auto-approve"] == ["amount_lte"]
    assert trace["refund-over-limit"] == []
