"""kill -9 a worker mid-conversation a few times: every conversation completes, no side effect twice."""

from __future__ import annotations

import pytest

from app.bench.crash import check, plan, run
from tests.helpers import Killed, desk_dying_at

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


REFUND = "Please refund $40 for order #48213, the headphones arrived broken."
QUESTION = "How do I reset my password? I forgot it."


def _check_both_turns_ran(values, result, services):
    assert values["turn"] == 2 and result.ticket_id is None and "password" in (result.answer or "").lower()
    assert len(services.tickets.list()) == 1  # the refund's turn ran to its end first
    assert [m.type for m in values["messages"]] == ["human", "ai", "human", "ai"]


def test_a_run_cut_short_is_finished_before_the_next_message(desk, services):
    """A crash between steps leaves the first turn's steps pending; the next message must not replace them."""
    from app.desk import DURABILITY

    payload, config = desk.runner.prepare(REFUND, "t-cut", None, "m1")
    desk.graph.invoke(payload, config, context=desk.runner.context, durability=DURABILITY, interrupt_before=["triage"])
    assert desk.graph.get_state(config).next == ("triage",)  # as a kill -9 after intake would leave it
    result = desk.send(QUESTION, "t-cut", message_id="m2")
    _check_both_turns_ran(desk.graph.get_state(config).values, result, services)


def test_the_chat_ui_stream_also_finishes_a_run_cut_short(desk, services):
    from app.desk import DURABILITY

    payload, config = desk.runner.prepare(REFUND, "t-ucut", None, "m1")
    desk.graph.invoke(payload, config, context=desk.runner.context, durability=DURABILITY, interrupt_before=["triage"])
    events = list(desk.stream(QUESTION, thread_id="t-ucut"))
    assert events and len(services.tickets.list()) == 1
    _check_both_turns_ran(desk.graph.get_state(config).values, desk.get("t-ucut"), services)


def test_async_send_also_finishes_a_run_cut_short(desk, services):
    import asyncio

    from app.desk import DURABILITY

    async def main():
        graph = await desk.runner.async_graph()
        payload, config = desk.runner.prepare(REFUND, "t-acut", None, "m1")
        await graph.ainvoke(payload, config, context=desk.runner.context, durability=DURABILITY,
                            interrupt_before=["triage"])
        assert (await graph.aget_state(config)).next == ("triage",)
        result = await desk.asend(QUESTION, "t-acut", message_id="m2")
        values = (await graph.aget_state(config)).values
        await desk.aclose()
        return values, result

    _check_both_turns_ran(*asyncio.run(main()), services)


def test_a_message_saved_just_before_a_kill_is_answered_when_sent_again(data_dir):
    """The input checkpoint and its writes are saved, the next checkpoint is not: the thread shows no next
    step and already holds the message. Sending it again must run its turn, not report it handled."""
    from app.desk import SupportDesk
    from app.services import Services

    armed = []
    settings, first = desk_dying_at(data_dir, lambda config, metadata: armed and metadata.get("source") == "loop")
    first.send(QUESTION, "t-kill", message_id="m1")
    armed.append(True)
    with pytest.raises(Killed):
        first.send(REFUND, "t-kill", message_id="m2")

    desk = SupportDesk(services=Services.from_settings(settings))  # the restarted process
    result = desk.send(REFUND, "t-kill", message_id="m2")
    values = desk.graph.get_state({"configurable": {"thread_id": "t-kill"}}).values
    assert values["turn"] == 2 and result.ticket_id and len(desk.services.tickets.list()) == 1
    assert [m.type for m in values["messages"]] == ["human", "ai", "human", "ai"]


def test_kills_lose_nothing_and_duplicate_nothing(data_dir):
    report = run(kills=3, conversations=8, data_dir=data_dir, max_delay=1.0, seed=3)
    assert report["final_run_completed"]
    assert report["kills"] == 3 or report["workload_finished_before_all_kills"]
    assert report["lost_conversations"] == 0, report["problems"]
    assert report["duplicate_tickets"] == 0 and report["duplicate_turns"] == 0
    assert report["duplicate_notifications"] == 0
    assert report["tickets"] == sum(c["tickets"] for c in plan(8))
    assert report["ticket_audit_events"] == report["tickets"] and report["tickets_without_one_audit_event"] == 0
    assert report["audit_chain_ok"]


def test_check_notices_a_lost_conversation(data_dir):
    """The harness can fail: threads never run count as lost."""
    report = check(data_dir, 2)
    assert report["lost_conversations"] == 2


def test_a_turn_killed_after_its_side_effects_is_run_again_once(data_dir):
    """A turn is saved as its input, then run with one checkpoint at its end (app/threads.py). Killed just before
    that checkpoint, after its ticket and notification were made, the thread is back at its saved input: the next
    message runs the whole turn again first, and every side effect is found by its key, not made twice."""
    from app.desk import SupportDesk
    from app.services import Services

    root_puts = []

    def dies(config, metadata) -> bool:
        if root_puts and metadata.get("source") == "loop" and not config["configurable"].get("checkpoint_ns"):
            root_puts.append(metadata)
            return len(root_puts) > 2  # the saved input's checkpoint went through; the turn's own does not
        return False

    settings, first = desk_dying_at(data_dir, dies)
    first.send(QUESTION, "t-late", message_id="m1")
    root_puts.append("armed")
    with pytest.raises(Killed):
        first.send(REFUND, "t-late", message_id="m2")
    tickets = first.services.tickets.list()
    assert len(tickets) == 1  # the refund's side effects happened before the kill
    refund_keys = sorted(e["key"] for e in first.services.audit.entries("t-late") if e["key"].startswith("t-late:2:"))
    assert refund_keys  # audited before the kill

    desk = SupportDesk(services=Services.from_settings(settings))  # the restarted process
    result = desk.send("Thanks. And how do I reset my password?", "t-late", message_id="m3")
    values = desk.graph.get_state({"configurable": {"thread_id": "t-late"}}).values
    assert values["turn"] == 3 and result.ticket_id is None
    assert [m.type for m in values["messages"]] == ["human", "ai"] * 3
    assert [t["id"] for t in desk.services.tickets.list()] == [tickets[0]["id"]]
    assert len(desk.services.tickets.notifications(tickets[0]["id"])) == 1
    entries = desk.services.audit.entries("t-late")
    assert sorted(e["key"] for e in entries if e["key"].startswith("t-late:2:")) == refund_keys  # none twice
    assert any(e["key"].startswith("t-late:3:") for e in entries)  # and the third turn was audited
