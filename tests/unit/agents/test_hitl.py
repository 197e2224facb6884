"""agents/compliance/hitl.py on its own: what a reviewer (or the customer) may send back to a paused review."""

from __future__ import annotations

import json

import pytest

from agents.compliance import hitl
from agents.compliance.hitl import (
    Approve,
    CustomerMessage,
    Edit,
    Reject,
    ReviewPayloadError,
    Withdraw,
    canonical,
    check_limits,
    decision_digest,
    from_customer,
    parse_customer,
    parse_resume,
    scrub,
)

REFUND = {"name": "refund",
          "args": {"order_id": "BW-48213", "amount": 900.0, "currency": "USD", "intent": "refund_request"}}


def one(decision: dict) -> dict:
    return {"decisions": [decision]}


def edit(**args) -> dict:
    return one({"type": "edit", "reviewer": "ana", "edited_action": {"name": "refund", "args": args}})


# ---- parsing a reviewer's decision ----------------------------------------------------------------------------
def test_each_decision_type_parses_to_its_own_class():
    assert isinstance(parse_resume(one({"type": "approve", "reviewer": "ana"})), Approve)
    rejected = parse_resume(one({"type": "reject", "reviewer": "ana", "message": "Not eligible."}))
    assert isinstance(rejected, Reject) and rejected.message == "Not eligible."
    edited = parse_resume(edit(order_id="BW-48213", amount=450, currency="USD"), REFUND)
    assert isinstance(edited, Edit)
    assert edited.edited_action.args["amount"] == 450 and edited.reviewer == "ana"


@pytest.mark.parametrize("value, needle", [
    ({"decisions": []}, "decisions"),  # none
    ({"decisions": [{"type": "approve", "reviewer": "a"}, {"type": "approve", "reviewer": "b"}]}, "decisions"),
    (one({"type": "approve"}), "reviewer"),  # no reviewer
    (one({"type": "approve", "reviewer": ""}), "reviewer"),
    (one({"type": "maybe", "reviewer": "ana"}), "maybe"),  # unknown type
    (one({"type": "approve", "reviewer": "ana", "amount": 5}), "amount"),  # unknown field
    ({"decisions": [{"type": "approve", "reviewer": "ana"}], "extra": 1}, "extra"),
    ("approve", "invalid review decision"),
    (None, "invalid review decision"),
])
def test_an_invalid_decision_is_refused_with_what_is_wrong(value, needle):
    with pytest.raises(ReviewPayloadError, match="invalid review decision") as err:
        parse_resume(value)
    assert needle in str(err.value)
    assert "\n" not in str(err.value)  # one line, for logs and HTTP errors


def test_a_payload_error_is_a_value_error():
    assert issubclass(ReviewPayloadError, ValueError)


# ---- limits --------------------------------------------------------------------------------------------------
def lists(n: int):
    """A string inside `n` nested lists."""
    value: object = "x"
    for _ in range(n):
        value = [value]
    return value


def test_nesting_up_to_the_limit_passes_and_one_level_more_is_refused():
    check_limits(lists(hitl.MAX_DEPTH))
    with pytest.raises(ReviewPayloadError, match=f"nested more than {hitl.MAX_DEPTH} levels"):
        check_limits(lists(hitl.MAX_DEPTH + 1))


def test_a_very_deep_value_is_refused_without_recursion_error():
    with pytest.raises(ReviewPayloadError, match="nested more than"):
        parse_resume(one({"type": "approve", "reviewer": "ana", "note": lists(5000)}))


def test_size_is_measured_as_json():
    room = hitl.MAX_PAYLOAD_CHARS - len(json.dumps(""))
    check_limits("a" * room)
    with pytest.raises(ReviewPayloadError, match="characters as JSON"):
        check_limits("a" * (room + 1))


def test_many_small_nodes_are_refused_before_serializing():
    with pytest.raises(ReviewPayloadError, match="larger than"):
        check_limits([0] * (hitl.MAX_PAYLOAD_CHARS + 1))


def test_a_value_that_is_not_json_data_is_refused():
    check_limits({"when": object()})  # anything else is written as its str(), as it is stored
    with pytest.raises(ReviewPayloadError, match="not JSON data"):
        check_limits({("a", "b"): 1})  # a tuple cannot be a JSON key


def test_limits_apply_before_the_schema():
    oversized = one({"type": "approve", "reviewer": "ana", "note": "n" * (hitl.MAX_PAYLOAD_CHARS + 10)})
    with pytest.raises(ReviewPayloadError, match="characters as JSON"):
        parse_resume(oversized)


# ---- edits -------------------------------------------------------------------------------------------------------
def test_an_edit_may_lower_the_amount_and_keep_the_rest():
    decision = parse_resume(edit(order_id="BW-48213", amount=100, currency="USD"), REFUND)
    assert decision.edited_action.args == {"order_id": "BW-48213", "amount": 100, "currency": "USD"}


def test_an_edit_may_drop_bookkeeping_but_not_arguments():
    parse_resume(edit(order_id="BW-48213", amount=900, currency="USD"), REFUND)  # `intent` left out: fine
    with pytest.raises(ReviewPayloadError, match="'order_id'"):
        parse_resume(edit(amount=900, currency="USD"), REFUND)
    with pytest.raises(ReviewPayloadError, match="'currency'"):
        parse_resume(edit(order_id="BW-48213", amount=900, currency="  "), REFUND)


@pytest.mark.parametrize("amount", [None, "", "100", True, 0, -5, float("inf"), float("nan"), 10**400])
def test_an_edited_amount_must_be_a_finite_positive_number(amount):
    with pytest.raises(ReviewPayloadError, match="amount"):
        parse_resume(edit(order_id="BW-48213", amount=amount, currency="USD"), REFUND)


def test_converted_amounts_are_checked_too():
    pending = {"name": "refund", "args": {"order_id": "BW-1", "amount": 50, "amount_usd": 55}}
    with pytest.raises(ReviewPayloadError, match="amount"):
        parse_resume(edit(order_id="BW-1", amount=50, amount_usd=-1), pending)


def test_an_amount_the_pending_action_did_not_have_may_stay_empty():
    pending = {"name": "escalate", "args": {"order_id": "BW-1"}}
    decision = parse_resume(one({"type": "edit", "reviewer": "ana",
                                 "edited_action": {"name": "escalate", "args": {"order_id": "BW-1", "amount": None}}}),
                            pending)
    assert decision.edited_action.args["amount"] is None


def test_an_edit_keeps_the_action_name():
    with pytest.raises(ReviewPayloadError, match="must keep the action 'refund'"):
        parse_resume(one({"type": "edit", "reviewer": "ana",
                          "edited_action": {"name": "cancel_order", "args": {"order_id": "BW-48213"}}}), REFUND)
    with pytest.raises(ReviewPayloadError, match="must keep the action 'refund'"):  # pending given by name only
        parse_resume(one({"type": "edit", "reviewer": "ana",
                          "edited_action": {"name": "cancel_order", "args": {}}}), "refund")


def test_without_a_pending_action_only_the_amount_is_checked():
    assert isinstance(parse_resume(edit(amount=5)), Edit)
    with pytest.raises(ReviewPayloadError):
        parse_resume(edit(amount=0))


# ---- what the customer sends while the review waits ------------------------------------------------------------
CUSTOMER = {"text": "any news?", "message_id": "m-1", "at": "2024-05-01T10:00:00+00:00"}


def test_a_customer_value_is_told_apart_from_a_decision():
    assert from_customer({"customer": CUSTOMER})
    assert not from_customer(one({"type": "approve", "reviewer": "ana"}))
    assert not from_customer({"customer": CUSTOMER, "decisions": []})  # never both
    assert not from_customer("customer")


def test_customer_message_and_withdraw_parse():
    note = parse_customer({"customer": {"type": "customer_message", **CUSTOMER}})
    assert isinstance(note, CustomerMessage) and note.text == "any news?" and note.opened is None
    gone = parse_customer({"customer": {"type": "withdraw", **CUSTOMER,
                                        "opened": {"review_id": "r-1", "at": "2024-05-01T09:00:00+00:00"}}})
    assert isinstance(gone, Withdraw) and gone.opened.review_id == "r-1"


@pytest.mark.parametrize("change", [
    {"type": "approve"},  # a customer cannot decide
    {"reviewer": "ana"},
    {"text": ""},
    {"text": "x" * (hitl.MAX_NOTE_CHARS + 1)},
    {"message_id": None},
])
def test_an_invalid_customer_value_is_refused(change):
    with pytest.raises(ReviewPayloadError, match="invalid customer message"):
        parse_customer({"customer": {"type": "customer_message", **CUSTOMER, **change}})


def test_a_customer_value_cannot_pass_as_a_decision():
    with pytest.raises(ReviewPayloadError):
        parse_resume({"customer": {"type": "customer_message", **CUSTOMER}})


# ---- scrub, canonical form and digest -------------------------------------------------------------------------
def test_scrub_redacts_free_text_and_edited_strings_but_not_protected_arguments():
    decision = {"type": "edit", "reviewer": "ana", "note": "called ana@example.com", "message": "ring +1 415 555 0100",
                "edited_action": {"name": "refund", "args": {"order_id": "BW-48213", "amount": 900.0,
                                                             "reason": "customer bob@example.org"}}}
    out = scrub(decision)
    assert out["note"] == "called [EMAIL]" and "555" not in out["message"]
    assert out["edited_action"]["args"] == {"order_id": "BW-48213", "amount": 900.0, "reason": "customer [EMAIL]"}
    assert decision["note"] == "called ana@example.com"  # a copy: the input is left alone
    assert decision["edited_action"]["args"]["reason"] == "customer bob@example.org"


def test_canonical_leaves_out_proof_and_empty_fields_and_is_stable():
    decision = {"type": "approve", "reviewer": "ana", "note": "ok", "batch": None, "signature": "abc", "token": "t"}
    body = json.loads(canonical("t-1", "r-1", decision))
    assert body == {"thread_id": "t-1", "review_id": "r-1",
                    "decision": {"type": "approve", "reviewer": "ana", "note": "ok"}}
    reordered = {"note": "ok", "reviewer": "ana", "type": "approve"}
    assert canonical("t-1", "r-1", reordered) == canonical("t-1", "r-1", decision)


def test_the_digest_tells_decisions_and_reviews_apart_but_not_their_proof():
    base = {"type": "approve", "reviewer": "ana"}
    digest = decision_digest("t-1", "r-1", base)
    assert len(digest) == 32 and int(digest, 16) >= 0
    assert decision_digest("t-1", "r-1", {**base, "signature": "other"}) == digest
    assert decision_digest("t-1", "r-2", base) != digest  # another review: a signature cannot be replayed
    assert decision_digest("t-2", "r-1", base) != digest
    assert decision_digest("t-1", "r-1", {**base, "type": "reject"}) != digest
    assert decision_digest("t-1", "r-1", {**base, "note": "mail a@b.co"}) == \
        decision_digest("t-1", "r-1", {**base, "note": "mail c@d.co"})  # as stored: redacted
