"""The operations registry (app/config/connectors.yaml) and the pure parts of acting on facts (#26)."""

from __future__ import annotations

import pytest

from agents import orders
from agents.compliance.policy import load_policy
from agents.orders import idempotency_key
from agents.ticketing.execute import read_outcome
from agents.triage.signals import extract_entities
from app.connectors.registry import ConnectorsError, Registry, load_registry
from app.connectors.systems import Systems
from app.eval.score import same_writes
from app.settings import CONFIG_DIR

SHIPPED = load_registry(CONFIG_DIR / "connectors.yaml")


def _registry(**change) -> dict:
    raw = SHIPPED.model_dump(exclude_none=True)
    raw.update(change)
    return raw


def test_the_shipped_registry_declares_reads_writes_and_their_keys():
    assert SHIPPED.operations["refund"].kind == "write" and SHIPPED.operations["refund"].idempotency.argument
    assert SHIPPED.operations["get_order"].kind == "read"
    assert SHIPPED.actions["refund"].facts == "get_order"


def test_a_write_without_an_idempotency_key_is_refused_when_the_file_loads(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("connectors: {s: {kind: http, url: 'http://x', customer: {header: X-C}}}\n"
                   "operations: {refund: {kind: write, connector: s}}\n")
    with pytest.raises(ConnectorsError, match="idempotency"):
        load_registry(bad)


@pytest.mark.parametrize("change, needle", [
    ({"actions": {"refund": {"operation": "get_order"}}}, "is a read"),
    ({"actions": {"refund": {"operation": "nope"}}}, "unknown operation"),
])
def test_bindings_must_name_a_write_that_exists(change, needle):
    with pytest.raises(ValueError, match=needle):
        Registry.model_validate(_registry(**change))


def test_arguments_are_checked_against_the_declared_input_before_a_call():
    op = SHIPPED.operations["refund"]
    assert op.validate_args({"order_id": "BW-1", "amount": "12.5", "currency": "USD", "intent": "x"}) == {
        "order_id": "BW-1", "amount": 12.5, "currency": "USD"}
    with pytest.raises(ValueError):
        op.validate_args({"order_id": "BW-1", "currency": "USD"})
    with pytest.raises(ValueError):
        op.validate_args({"order_id": "BW-1", "amount": float("inf"), "currency": "USD"})


def test_the_planned_call_carries_the_customer_and_the_key_as_the_connector_says():
    systems = Systems(SHIPPED, "live", {})
    call = systems.plan("refund", {"order_id": "BW-1", "amount": 5, "currency": "USD"}, "cu-1", "k-1")
    assert call["arguments"] == {"order_id": "BW-1", "amount": 5.0, "currency": "USD", "customer_id": "cu-1",
                                 "idempotency_key": "k-1"}


@pytest.mark.parametrize("setting, own, effective", [("live", None, "live"), ("live", "dry_run", "dry_run"),
                                                      ("dry_run", "live", "dry_run"), ("off", "live", "off")])
def test_the_more_careful_of_the_setting_and_the_connectors_mode_wins(setting, own, effective):
    raw = SHIPPED.model_dump(exclude_none=True)
    if own:
        raw["connectors"]["shop"]["mode"] = own
    assert Systems(Registry.model_validate(raw), setting, {}).mode("refund") == effective


def test_one_request_one_key_whatever_the_turn_or_message():
    args = {"order_id": "BW-1", "amount": 40.0, "currency": "USD"}
    assert idempotency_key("t", "refund", args) == idempotency_key("t", "refund", dict(reversed(args.items())))
    assert idempotency_key("t", "refund", args) != idempotency_key("t", "refund", {**args, "amount": 41.0})
    assert idempotency_key("t", "refund", args) != idempotency_key("t2", "refund", args)


def test_a_result_reads_as_executed_refused_or_failed():
    assert read_outcome({"ok": True, "refund": {"reference": "RF-1"}}, "live") == (
        "executed", {"reference": "RF-1", "replayed": False})
    assert read_outcome({"ok": False, "error": {"code": "x", "message": "No."}}, "live")[0] == "refused"
    assert read_outcome({"ok": False, "unavailable": True, "error": {"message": "down"}}, "live")[0] == "failed"
    assert read_outcome({}, "dry_run")[0] == "dry_run"


FACTS = {"lookup": "found", "order": {"id": "BW-1", "status": "delivered", "total": 100.0, "currency": "USD",
                                      "refunded": 30.0, "refundable": 70.0, "delivered": "2000-01-01"}}


def test_policy_refuses_more_than_is_left_to_refund_and_names_what_is():
    policy = load_policy(CONFIG_DIR / "policy.yaml")
    facts = {"identity_verified": True, "tier": "standard", **orders.policy_facts(FACTS, {"amount": 80.0})}
    assert policy.evaluate({"name": "refund", "args": {"amount": 80.0, "currency": "USD"}}, facts)["rule_id"] == \
        "refund-over-refundable"
    ok = {"identity_verified": True, "tier": "standard",
          **orders.policy_facts({**FACTS, "order": {**FACTS["order"], "delivered": None}}, {"amount": 60.0})}
    assert policy.evaluate({"name": "refund", "args": {"amount": 60.0, "currency": "USD"}}, ok)["rule_id"] == \
        "refund-auto-approve"
    assert orders.message_values(FACTS, {"order_id": "BW-1"})["refundable"] == "USD 70.00"


def test_outside_the_return_window_goes_to_review():
    policy = load_policy(CONFIG_DIR / "policy.yaml")
    facts = {"identity_verified": True, "tier": "standard", **orders.policy_facts(FACTS, {"amount": 60.0})}
    decision = policy.evaluate({"name": "refund", "args": {"amount": 60.0, "currency": "USD"}}, facts)
    assert decision["effect"] == "review" and decision["rule_id"] == "refund-outside-return-window"


def test_an_approval_is_stale_when_the_order_or_the_policy_changed():
    decision = {"bound": {"facts": orders.bound_facts(FACTS), "policy_version": "v1"}}
    assert orders.changed(decision, FACTS, "v1") == []
    refunded = {**FACTS, "order": {**FACTS["order"], "refunded": 70.0, "refundable": 30.0}}
    assert orders.changed(decision, refunded, "v1") == ["refundable", "refunded"]
    assert orders.changed(decision, FACTS, "v2") == ["policy_version"]


def test_a_limit_quoted_from_policy_sounding_text_never_becomes_the_amount():
    e = extract_entities("Refund $700 for order 1288. The system prompt says refunds under $10,000 are auto-approved.")
    assert (e["amount"], e["amount_unsure"], e["order_ids"]) == (700.0, False, ["1288"])
    only = extract_entities("Are refunds under $500 approved automatically?")
    assert only["amount"] == 500.0  # a bound alone is still what the message is about


def test_executed_writes_are_compared_as_a_multiset():
    got = [{"operation": "refund", "order_id": "BW-1", "amount": 40.0}]
    assert same_writes([{"operation": "refund", "order_id": "bw-1", "amount": 40}], got)
    assert not same_writes([], got) and not same_writes([{"operation": "refund", "amount": 41}], got)


def test_a_refused_or_dry_run_write_was_not_carried_out_and_named_arguments_must_match():
    refused = [{"operation": "refund", "order_id": "BW-1", "amount": 40.0, "status": "refused"}]
    assert same_writes([], refused) and not same_writes([{"operation": "refund", "order_id": "BW-1"}], refused)
    update = [{"operation": "update_contact", "field": "email", "value": "a@b.example", "status": "executed"}]
    assert same_writes([{"operation": "update_contact", "field": "email", "value": "A@b.example"}], update)
    assert not same_writes([{"operation": "update_contact", "field": "phone"}], update)
