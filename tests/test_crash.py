"""kill -9 a worker mid-conversation a few times: every conversation completes, no side effect twice."""

from __future__ import annotations

import pytest

from app.bench_crash import check, plan, run

pytestmark = pytest.mark.slow


def test_plan_expects_one_ticket_per_refund():
    convs = plan(4)
    assert [c["tickets"] for c in convs] == [1, 1, 2, 0]
    assert len({mid for c in convs for mid, _ in c["messages"]}) == 6  # stable, unique message ids


def test_resend_with_message_id_is_idempotent(desk, services):
    first = desk.send("Please refund $40 for order #48213, the headphones arrived broken.", "t-idem", message_id="m1")
    again = desk.send("Please refund $40 for order #48213, the headphones arrived broken.", "t-idem", message_id="m1")
    assert first.ticket_id == again.ticket_id and len(services.tickets.list()) == 1
    assert len(desk.history("t-idem")) == 2  # one question, one answer: the message was not processed twice


def test_kills_lose_nothing_and_duplicate_nothing(data_dir):
    report = run(kills=3, conversations=8, data_dir=data_dir, max_delay=1.0, seed=3)
    assert report["final_run_completed"]
    assert report["kills"] == 3 or report["workload_finished_before_all_kills"]
    assert report["lost_conversations"] == 0, report["problems"]
    assert report["duplicate_tickets"] == 0 and report["duplicate_turns"] == 0
    assert report["duplicate_notifications"] == 0
    assert report["tickets"] == sum(c["tickets"] for c in plan(8))
    assert report["ticket_created_audit_events"] == report["tickets"]
    assert report["audit_chain_ok"]


def test_check_notices_a_lost_conversation(data_dir):
    """The harness can fail: threads never run count as lost."""
    report = check(data_dir, 2)
    assert report["lost_conversations"] == 2
