"""Acting in the company's system (#26), end to end: the desk against the shipped sample shop, a real MCP server
started over stdio by the desk itself. Every test here fails on the code before connectors: an approved action was
only a ticket, and nothing read the order.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import ROOT, make_settings

pytestmark = pytest.mark.slow

FIXTURE = {
    "customers": [
        {"id": "cu-a", "name": "Ada", "email": "ada@example.com", "tier": "standard", "verified": True},
        {"id": "cu-b", "name": "Bo", "email": "bo@example.com", "tier": "standard", "verified": True},
    ],
    "orders": [
        {"id": "BW-50001", "customer": "cu-a", "status": "delivered", "placed": "today-9", "shipped": "today-8",
         "delivered": "today-5", "total": 40.0, "currency": "USD", "refunded": 0.0, "carrier": "UPS",
         "tracking": "1ZA0000000000001",
         "items": [{"sku": "HP-1", "name": "Wave headphones", "category": "audio", "price": 40.0, "quantity": 1}]},
        {"id": "BW-50002", "customer": "cu-a", "status": "shipped", "placed": "today-3", "shipped": "today-1",
         "expected": "today+2", "total": 120.0, "currency": "USD", "refunded": 0.0, "carrier": "DHL",
         "tracking": "JD0000000000000002",
         "items": [{"sku": "SP-1", "name": "Pulse speaker", "category": "audio", "price": 120.0, "quantity": 1}]},
        {"id": "BW-50003", "customer": "cu-a", "status": "delivered", "placed": "today-12", "shipped": "today-11",
         "delivered": "today-9", "total": 1000.0, "currency": "USD", "refunded": 0.0, "carrier": "UPS",
         "tracking": "1ZA0000000000003",
         "items": [{"sku": "LT-1", "name": "Nova laptop", "category": "computers", "price": 1000.0, "quantity": 1}]},
        {"id": "BW-50004", "customer": "cu-a", "status": "delivered", "placed": "today-9", "shipped": "today-8",
         "delivered": "today-6", "total": 89.0, "currency": "USD", "refunded": 0.0, "carrier": "UPS",
         "tracking": "1ZA0000000000004",
         "items": [{"sku": "KB-1", "name": "Glide keyboard", "category": "accessories", "price": 89.0,
                    "quantity": 1}]},
        {"id": "BW-60001", "customer": "cu-b", "status": "shipped", "placed": "today-2", "shipped": "today-1",
         "expected": "today+3", "total": 300.0, "currency": "USD", "refunded": 0.0, "carrier": "FedEx",
         "tracking": "FX0000000000SECRET",
         "items": [{"sku": "TV-1", "name": "Vista monitor", "category": "displays", "price": 300.0, "quantity": 1}]},
    ],
}
ADA = {"id": "cu-a", "verified": True, "tier": "standard"}
BO = {"id": "cu-b", "verified": True, "tier": "standard"}


def seed(path, fixture=FIXTURE, tmp=None) -> None:
    src = path.with_suffix(".json")
    src.write_text(json.dumps(fixture), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "app.shop", "seed", str(src), "--db", str(path), "--replace"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def live(data_dir):
    from app.desk import SupportDesk
    from app.services import Services

    settings = make_settings(data_dir, connectors_mode="live")
    seed(settings.shop_path)
    with SupportDesk(services=Services.from_settings(settings)) as desk:
        yield desk


def ledger(desk, order_id: str, customer: str = "cu-a") -> dict:
    result = desk.services.systems.read("get_order", {"order_id": order_id}, customer)
    assert result["ok"], result
    return result["order"]


def writes(desk, thread_id: str) -> list[dict]:
    return [e for e in desk.services.executions.of_thread(thread_id) if e["status"] == "executed"]


def test_an_approved_refund_is_carried_out_once_with_the_systems_reference(live):
    r = live.send("Please refund $40 for order BW-50001, the headphones arrived broken.", thread_id="t-ok",
                  customer=ADA)
    assert r.execution and r.execution["status"] == "executed", r.answer
    assert "I've refunded $40.00 for order BW-50001" in r.answer and r.execution["reference"] in r.answer
    assert ledger(live, "BW-50001")["refunded"] == pytest.approx(40.0)
    ticket = live.services.tickets.get(r.ticket_id)
    assert ticket["status"] == "solved" and ticket["external_ref"] == r.execution["reference"]
    assert ticket["amount"] == pytest.approx(40.0)
    executed = [e for e in live.services.audit.entries("t-ok") if e["event"] == "action_executed"]
    assert len(executed) == 1 and "ada@example.com" not in json.dumps(executed)


def test_a_refund_above_what_was_paid_is_refused_and_nothing_moves(live):
    r = live.send("Please refund $400 for order BW-50001.", thread_id="t-over", customer=ADA)
    assert r.outcome == "refused" and r.policy["rule_id"] == "refund-over-refundable"
    assert "40.00" in r.answer and not writes(live, "t-over")
    assert ledger(live, "BW-50001")["refunded"] == 0


def test_another_customers_order_reads_exactly_like_one_that_does_not_exist(live):
    theirs = live.send("Where is my order BW-60001?", thread_id="t-theirs", customer=ADA)
    missing = live.send("Where is my order BW-69999?", thread_id="t-missing", customer=ADA)
    for r in (theirs, missing):
        assert "FX0000000000SECRET" not in r.answer and "FedEx" not in r.answer and "Vista" not in r.answer
    assert theirs.answer.replace("BW-60001", "X") == missing.answer.replace("BW-69999", "X")
    refund = live.send("Refund $50 for order BW-60001 please", thread_id="t-theirs-refund", customer=ADA)
    assert refund.outcome == "refused" and refund.policy["rule_id"] == "order-not-found"
    assert ledger(live, "BW-60001", "cu-b")["refunded"] == 0


def test_where_is_my_order_is_answered_from_the_order_for_its_owner_only(live):
    own = live.send("Where is my order BW-60001?", thread_id="t-own", customer=BO)
    assert "FX0000000000SECRET" in own.answer and "FedEx" in own.answer
    anonymous = live.send("Where is my order BW-60001?", thread_id="t-anon")
    assert "FX0000000000SECRET" not in anonymous.answer


def test_cancelling_a_shipped_order_is_refused_with_the_return_route(live):
    r = live.send("Please cancel order BW-50002", thread_id="t-cancel", customer=ADA)
    assert r.outcome == "refused" and r.policy["rule_id"] == "cancel-after-shipping"
    assert "return" in r.answer.lower() and ledger(live, "BW-50002")["status"] == "shipped"


def test_an_unverified_customer_gets_no_write_and_is_told_to_sign_in(live):
    r = live.send("Please refund $40 for order BW-50001.", thread_id="t-unverified",
                  customer={"id": "cu-a", "verified": False})
    assert r.outcome == "refused" and "sign in" in r.answer.lower()
    assert ledger(live, "BW-50001")["refunded"] == 0


def test_an_approval_is_checked_again_when_the_order_changed_while_it_waited(live):
    r = live.send("I'd like a refund of $600 for order BW-50003, the laptop is faulty.", thread_id="t-recheck",
                  customer=ADA)
    assert r.pending_review, r.answer  # above the $500 automatic limit
    # Meanwhile someone refunds part of the order in the shop itself.
    done = live.services.systems.write("refund", {"order_id": "BW-50003", "amount": 100.0, "currency": "USD"},
                                       "cu-a", "outside-the-desk-1")
    assert done["ok"], done
    after = live.approve("t-recheck", reviewer="ana")
    assert after.pending_review and after.pending_review["metadata"]["rule_id"] == "facts-changed"
    assert ledger(live, "BW-50003")["refunded"] == pytest.approx(100.0)  # nothing executed on stale facts
    final = live.approve("t-recheck", reviewer="ana")
    assert final.execution and final.execution["status"] == "executed"
    assert ledger(live, "BW-50003")["refunded"] == pytest.approx(700.0)


@pytest.mark.parametrize("follow_up", [
    "Thanks! When will I see the money?\n\n> Your refund of $89.00 for order BW-50004 has been approved.",
    "It was approved on Monday, when does the $89 for order BW-50004 arrive?",
])
def test_a_quoted_reply_or_a_status_question_creates_no_second_refund(live, follow_up):
    first = live.send("Please refund $89 for order BW-50004, the keyboard is faulty.", thread_id="t-twice",
                      customer=ADA)
    assert first.execution["status"] == "executed"
    live.send(follow_up, thread_id="t-twice", customer=ADA)
    assert ledger(live, "BW-50004")["refunded"] == pytest.approx(89.0)
    assert len(writes(live, "t-twice")) == 1


def test_the_same_request_sent_again_refunds_once(live):
    text = "Please refund $40 for order BW-50001."
    first = live.send(text, thread_id="t-again", customer=ADA)
    again = live.send("hello?? did you get my message? " + text, thread_id="t-again", customer=ADA)
    live.send(text, thread_id="t-again-2", customer=ADA)
    assert ledger(live, "BW-50001")["refunded"] == pytest.approx(40.0)
    # The repeat is told the truth: done once, when first asked, with that call's reference (it used to hear
    # "I've refunded $40.00" again, as if a second refund had been made).
    assert "already refunded $40.00" in again.answer and first.execution["reference"] in again.answer, again.answer
    assert "I've refunded" not in again.answer


def test_a_refund_without_an_amount_offers_the_refundable_amount_and_waits_for_a_yes(live):
    r = live.send("I want a refund for order BW-50004", thread_id="t-ask", customer=ADA)
    assert r.outcome == "needs_info" and "89.00" in r.answer
    assert ledger(live, "BW-50004")["refunded"] == 0
    done = live.send("yes please", thread_id="t-ask", customer=ADA)
    assert done.execution and done.execution["status"] == "executed", done.answer
    assert ledger(live, "BW-50004")["refunded"] == pytest.approx(89.0)


def test_dry_run_records_the_exact_call_and_moves_nothing(data_dir):
    from app.desk import SupportDesk
    from app.services import Services

    settings = make_settings(data_dir, connectors_mode="dry_run")
    seed(settings.shop_path)
    with SupportDesk(services=Services.from_settings(settings)) as desk:
        r = desk.send("Please refund $40 for order BW-50001.", thread_id="t-dry", customer=ADA)
        assert r.execution["status"] == "dry_run" and "colleague" in r.answer
        row = desk.services.executions.of_thread("t-dry")[0]
        assert row["call"]["arguments"]["amount"] == 40.0 and row["call"]["arguments"]["customer_id"] == "cu-a"
        assert row["call"]["arguments"]["idempotency_key"] == row["key"]
        assert ledger(desk, "BW-50001")["refunded"] == 0
        assert desk.services.tickets.get(r.ticket_id)["status"] != "solved"


def test_the_share_resolved_without_a_person_counts_questions_and_actions_apart(live):
    """The operations page's automation figure: an executed refund and a refusal with its reason are the desk's, a
    refund above the auto-approval limit waits for a person; a help-centre answer is the desk's. Before it, every
    executed action was recorded as `ticket_created`, which the page could not tell from work for a person."""
    live.send("Please refund $40 for order BW-50001, it arrived broken.", thread_id="t-share-1", customer=ADA)
    live.send("Please refund $400 for order BW-50004.", thread_id="t-share-2", customer=ADA)
    live.send("Please refund $1000 for order BW-50003, the screen is dead.", thread_id="t-share-3", customer=ADA)
    live.send("How do I reset my password?", thread_id="t-share-4", customer=ADA)
    figures = live.services.metrics.summary()["without_person"]
    assert figures["action"] == {"turns": 2, "by_desk": 2, "share": 1.0}  # the $1000 one is paused, not settled
    assert figures["question"]["turns"] == 1 and figures["question"]["by_desk"] == 1
    live.approve("t-share-3", reviewer="ana")
    figures = live.services.metrics.summary()["without_person"]
    assert figures["action"] == {"turns": 3, "by_desk": 2, "share": pytest.approx(0.6667)}


def test_a_reviewer_reads_the_order_and_the_customers_earlier_refunds_beside_the_decision(live):
    """Reviewers decided from the action's arguments alone: no order, no refund history (#28)."""
    from app.ui.review_context import history, order_facts

    live.send("Please refund $40 for order BW-50001, the headphones arrived broken.", thread_id="t-first",
              customer=ADA)
    live.send("Refund $1000 for order BW-50003, the laptop died", thread_id="t-big", customer=ADA)
    (item,) = [i for i in live.inbox() if i["thread_id"] == "t-big"]
    facts = dict(order_facts(item["facts"]))
    assert facts["Order"] == "BW-50003" and facts["Total"] == "USD 1,000.00" and facts["Status"] == "Delivered"
    assert facts["Refunded so far"] == "USD 0.00" and "Carrier" not in facts  # bound facts only: nothing personal
    assert facts["Still refundable"] == "USD 1,000.00"
    past = history(live, item["customer_id"], item["thread_id"])
    assert [(w["What"], w["Order"], w["Amount"], w["Result"]) for w in past["writes"]] == [
        ("Refund", "BW-50001", "USD 40.00", "Done")]
    assert [t["Status"] for t in past["tickets"]] == ["Solved"]  # the first refund's ticket; not this review's
    assert history(live, "cu-b")["writes"] == [] and history(live, None) == {"writes": [], "tickets": []}
