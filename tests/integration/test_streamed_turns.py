"""A streamed turn (the console chat, `GET /v1/messages/stream`) is the same operation as `SupportDesk.send`: the
input saved first, `message_id` idempotency, a message for a paused review handled as `send` handles it, a run a
crash cut short carried on first. Only the run itself differs: it yields progress events.
"""

from __future__ import annotations

import pytest

from agents.compliance.reviewers import hash_token
from app.review.customer_notes import NOTED, STILL_WITH_TEAM
from tests.helpers import Killed, desk_dying_at, make_settings, sse_events

PAUSING_REFUND = "I want a refund of $900 for order #55120"  # over the limit: waits for a review
REFUND = "Please refund $40 for order #48213, the headphones arrived broken."  # a ticket and a notification
QUESTION = "How do I reset my password? I forgot it."
NOTE = "It's order BW-40404, $80, the speaker crackles"


def _stream(desk, message: str, thread_id: str, message_id: str | None = None):
    """(progress events, turn result) of one streamed turn."""
    stream = desk.stream(message, thread_id=thread_id, message_id=message_id)
    return list(stream), stream.result


def _human_messages(desk, thread_id: str) -> list[str]:
    return [h["content"] for h in desk.history(thread_id) if h["role"] == "human"]


def _paused(desk, thread_id: str) -> None:
    assert desk.send(PAUSING_REFUND, thread_id=thread_id).pending_review


# ---- a message while a review waits ---------------------------------------------------------------------
def test_a_note_streamed_while_a_review_waits_is_attached_for_the_reviewer(desk, services):
    _paused(desk, "t-note")
    _, result = _stream(desk, NOTE, "t-note")
    assert result.answer == NOTED and result.pending_review
    (item,) = desk.inbox()
    assert [n["text"] for n in item["customer_notes"]] == [NOTE]
    assert [e["event"] for e in services.audit.entries("t-note")].count("customer_note") == 1
    assert desk.approve("t-note", reviewer="bo").outcome == "ticket_created"  # the reviewer still decides


def test_a_question_streamed_while_a_review_waits_is_answered_and_the_review_stays(desk, services):
    _paused(desk, "t-question")
    before = desk.inbox()[0]
    _, result = _stream(desk, "how do I reset my password?", "t-question")
    assert result.outcome == "answered" and result.answer.endswith(STILL_WITH_TEAM)
    (item,) = desk.inbox()
    assert item["interrupt_id"] == before["interrupt_id"] and item["customer_notes"] == []
    assert services.tickets.list() == []


def test_a_withdrawal_streamed_while_a_review_waits_ends_the_review(desk, services):
    _paused(desk, "t-withdraw")
    _, result = _stream(desk, "Never mind, cancel that request", "t-withdraw")
    assert result.outcome == "withdrawn" and result.pending_review is None
    assert desk.inbox() == [] and services.tickets.list() == []


# ---- idempotency and crashes ------------------------------------------------------------------------------
def test_the_same_message_id_streamed_twice_runs_once(desk, services):
    events, first = _stream(desk, REFUND, "t-twice", message_id="m1")
    assert events and first.ticket_id
    _, again = _stream(desk, REFUND, "t-twice", message_id="m1")  # a client retry after a timeout
    assert again.ticket_id == first.ticket_id and len(services.tickets.list()) == 1
    assert _human_messages(desk, "t-twice") == [REFUND] and desk.runner.snapshot("t-twice").values["turn"] == 1


def test_a_streamed_turn_killed_mid_run_is_carried_on_with_nothing_done_twice(data_dir):
    """Killed at the turn's own checkpoint, after its ticket and notification were made: the retry of the same
    message (same id) and the next message each find the work done once."""
    from app.desk import SupportDesk
    from app.services import Services

    root_puts: list = []

    def dies(config, metadata) -> bool:
        if root_puts and metadata.get("source") == "loop" and not config["configurable"].get("checkpoint_ns"):
            root_puts.append(metadata)
            return bool(first.services.tickets.list())  # the refund's side effects are done; its checkpoint is not
        return False

    settings, first = desk_dying_at(data_dir, dies)
    _stream(first, QUESTION, "t-kill", message_id="m1")
    root_puts.append("armed")
    with pytest.raises(Killed):
        _stream(first, REFUND, "t-kill", message_id="m2")
    (ticket,) = first.services.tickets.list()
    assert len(first.services.tickets.notifications(ticket["id"])) == 1

    desk = SupportDesk(services=Services.from_settings(settings))  # the restarted process
    try:
        _, retried = _stream(desk, REFUND, "t-kill", message_id="m2")  # the client sends it again
        assert retried.ticket_id == ticket["id"]
        _, result = _stream(desk, "Thanks. And how do I reset my password?", "t-kill", message_id="m3")
        values = desk.runner.snapshot("t-kill").values
        assert values["turn"] == 3 and result.ticket_id is None and "password" in result.answer.lower()
        assert _human_messages(desk, "t-kill") == [QUESTION, REFUND, "Thanks. And how do I reset my password?"]
        assert [m.type for m in values["messages"]] == ["human", "ai"] * 3
        assert [t["id"] for t in desk.services.tickets.list()] == [ticket["id"]]
        assert len(desk.services.tickets.notifications(ticket["id"])) == 1
    finally:
        desk.close()
        first.close()


# ---- the HTTP stream route -----------------------------------------------------------------------------------
KEY = "channel-secret-1"


def _sse(client, **body) -> list[tuple[str, dict]]:
    with client.stream("POST", "/v1/messages/stream", json=body,
                       headers={"Authorization": f"Bearer {KEY}"}) as response:
        assert response.status_code == 200
        return sse_events("".join(response.iter_text()))


def test_the_http_stream_has_the_same_guarantees(data_dir, monkeypatch):
    from fastapi.testclient import TestClient

    from app.http.api import create_app

    monkeypatch.setenv("SUPPORT_API_KEYS", f"web={hash_token(KEY)}")
    with TestClient(create_app(make_settings(data_dir), warm_in_background=False)) as client:
        desk = client.app.state.desk
        first = _sse(client, message=REFUND, thread_id="t-http", message_id="m1")
        again = _sse(client, message=REFUND, thread_id="t-http", message_id="m1")
        assert first[-1][0] == "result" and again[-1][0] == "result"
        assert any(kind == "progress" for kind, _ in first)
        assert again[-1][1]["ticket_id"] == first[-1][1]["ticket_id"] and len(desk.services.tickets.list()) == 1
        assert _human_messages(desk, "t-http") == [REFUND]

        assert _sse(client, message=PAUSING_REFUND, thread_id="t-http-paused")[-1][1]["with_team"]
        noted = _sse(client, message=NOTE, thread_id="t-http-paused")
        assert noted[-1][0] == "result" and noted[-1][1]["answer"] == NOTED
        assert [n["text"] for n in desk.inbox()[0]["customer_notes"]] == [NOTE]
