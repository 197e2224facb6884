"""The Streamlit console's chat page and sidebar, driven through AppTest against a real data directory.

Other pages: tests/test_streamlit_pages.py; a real browser: tests/test_browser_streamlit.py.
"""

from __future__ import annotations

import json

from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from tests.helpers import REFUND, button, make_settings, sign_in, tickets


def texts(at) -> str:
    return " ".join(m.markdown[0].value for m in at.chat_message if m.markdown)


def test_question_answered_with_citation_and_agent_progress(app):
    app.chat_input[0].set_value("How do I reset my password?").run()
    assert not app.exception
    assert "password" in texts(app).lower()
    assert any("password-reset.md" in e.label for e in app.expander)
    (progress,) = [e for e in app.expander if e.label == "Agent progress (last turn)"]
    lines = progress.markdown[0].value
    assert lines.index("Triage · enrich") < lines.index("Supervisor → Research") < lines.index("✓ Research finished")
    assert "answer grounded" in lines


def test_big_refund_review_then_approve(app, data_dir):
    app.chat_input[0].set_value(REFUND).run()
    assert any("Under review" in w.value for w in app.warning)
    sign_in(app)
    assert any("Signed in as **ana**" in m.value for m in app.sidebar.markdown)
    button(app, "chat-approve").click().run()
    assert not app.exception
    assert "approved after review" in texts(app)
    (ticket,) = tickets(data_dir)
    assert ticket["reviewer"] == "ana"


def test_approve_without_sign_in_is_refused(app, data_dir):
    app.chat_input[0].set_value(REFUND).run()
    button(app, "chat-approve").click().run()
    assert any("Sign in" in e.value for e in app.error)
    assert tickets(data_dir) == []
    assert any("Under review" in w.value for w in app.warning)


def test_wrong_secret_is_not_an_identity(app, data_dir):
    app.chat_input[0].set_value(REFUND).run()
    sign_in(app, "ana", "not-the-token")
    assert any("Sign-in failed" in e.value for e in app.error)
    sign_in(app, "mallory", "demo-mallory")
    assert any("Sign-in failed" in e.value for e in app.error)
    button(app, "chat-approve").click().run()
    assert any("Sign in" in e.value for e in app.error)
    assert tickets(data_dir) == []


def test_reject_from_chat_tells_the_customer(app, data_dir):
    app.chat_input[0].set_value(REFUND).run()
    sign_in(app)
    app.text_input(key=next(t.key for t in app.text_input if t.key and t.key.startswith("chat-msg"))).set_value(
        "Outside the return window.").run()
    button(app, "chat-reject").click().run()
    assert "Outside the return window." in texts(app)
    assert tickets(data_dir) == []


def test_bad_message_shows_error(app):
    app.chat_input[0].set_value("abc\x00def").run()
    assert not app.exception
    assert any("binary" in e.value for e in app.error)


def test_conversations_can_be_reopened(app):
    app.chat_input[0].set_value("How do I reset my password?").run()
    first = app.session_state["thread_id"]
    next(b for b in app.sidebar.button if b.label == "New conversation").click().run()
    assert app.session_state["thread_id"] != first and "password" not in texts(app).lower()
    app.sidebar.selectbox[0].set_value(first).run()
    assert app.session_state["thread_id"] == first
    assert "password" in texts(app).lower()


def test_kill_switch_toggle_is_audited(app, data_dir):
    from app.store.audit import AuditLog

    next(b for b in app.sidebar.button if b.key == "kill-switch").click().run()
    assert any("Sign in" in e.value for e in app.error)  # anonymous operators are refused
    sign_in(app, "max", "demo-max")
    next(b for b in app.sidebar.button if b.key == "kill-switch").click().run()
    assert any("ON" in m.value for m in app.sidebar.markdown)
    events = [e for e in AuditLog(make_settings(data_dir).app_db).entries() if e["event"].startswith("kill_switch")]
    assert [e["actor"] for e in events] == ["operator:max"]


# ---- token streaming in LLM mode (the provider is scripted; everything else is real) ------------
def _streaming_model():
    from app.llm.scripted import ScriptedChatModel

    class StreamingScripted(ScriptedChatModel):
        """Streams its tool call's JSON arguments in small pieces, as an OpenAI-compatible server does."""

        def _stream(self, messages, stop=None, run_manager=None, **kwargs):
            msg = self._generate(messages, stop, **kwargs).generations[0].message
            call = msg.tool_calls[0]
            args = json.dumps(call["args"])
            for i in range(0, len(args), 7):
                first, last = i == 0, i + 7 >= len(args)
                yield ChatGenerationChunk(message=AIMessageChunk(
                    content="", tool_call_chunks=[{"name": call["name"] if first else None, "args": args[i:i + 7],
                                                   "id": call["id"] if first else None, "index": 0}],
                    usage_metadata=msg.usage_metadata if last else None))

    return StreamingScripted(model="big")


def test_llm_answer_streams_as_tokens_with_agent_progress(data_dir):
    from app.desk import SupportDesk
    from app.llm.models import ModelRouter
    from app.llm.scripted import ScriptedChatModel
    from app.services import Services
    from app.ui.progress import stream_turn

    small, big = ScriptedChatModel(model="small"), _streaming_model()
    small.script["TriageResult"] = [{"intent": "password_reset", "confidence": 0.95}]
    answer = "Use Forgot password on the sign-in page. The link lasts 30 minutes."
    big.script["GroundedAnswer"] = [{"answer": answer, "citations": ["password-reset.md"]}]
    big.script["GroundingVerdict"] = [{"grounded": True, "unsupported_claims": []}]
    svc = Services(settings=make_settings(data_dir, offline=False, triage_confidence=0.999),
                   models=ModelRouter(triage=small, research=big))
    desk = SupportDesk(services=svc)
    try:
        events = list(stream_turn(desk, "I can't get into my account, what do I do?", "t-stream"))
        result = desk.get("t-stream")
    finally:
        desk.close()
    drafts = [e.text for e in events if e.kind == "token"]
    assert len(drafts) > 3 and drafts[-1] == answer  # many partial drafts, ending in the full answer
    assert all(answer.startswith(d) for d in drafts) and len(set(drafts)) == len(drafts)
    finished = [e.agent for e in events if e.kind == "finished"]
    assert finished == ["triage", "research"]
    assert result.answer.startswith(answer) and result.llm_calls == 3 and result.completion_tokens > 0


def test_tokens_stream_only_when_usage_is_reported(desk):
    from langchain_openai import ChatOpenAI

    from app.llm.models import ModelRouter
    from app.ui.progress import streams_tokens

    assert not streams_tokens(desk)  # offline: nothing to stream
    quiet = ChatOpenAI(model="m", api_key="k", base_url="http://127.0.0.1:9/v1")  # streamed calls carry no usage
    desk.services.models = ModelRouter(triage=quiet, research=quiet)
    assert not streams_tokens(desk)
    counted = ChatOpenAI(model="m", api_key="k", base_url="http://127.0.0.1:9/v1", stream_usage=True)
    desk.services.models = ModelRouter(triage=counted, research=counted)
    assert streams_tokens(desk)


def _stream_turn_with(data_dir, research_model, thread_id: str):
    from app.desk import SupportDesk
    from app.llm.models import ModelRouter
    from app.llm.scripted import ScriptedChatModel
    from app.services import Services
    from app.ui.progress import stream_turn

    small = ScriptedChatModel(model="small")
    small.script["TriageResult"] = [{"intent": "password_reset", "confidence": 0.95}]
    svc = Services(settings=make_settings(data_dir, offline=False, triage_confidence=0.999),
                   models=ModelRouter(triage=small, research=research_model))
    desk = SupportDesk(services=svc)
    try:
        events = list(stream_turn(desk, "I can't get into my account, what do I do?", thread_id))
        return events, desk.get(thread_id)
    finally:
        desk.close()


def test_tokens_stream_through_the_resilient_wrapper(data_dir):
    """The provider wrapper used in LLM mode passes the primary model's token stream through."""
    from app.llm.resilient import ResilientChatModel

    big = _streaming_model()
    answer = "Use Forgot password on the sign-in page. The link lasts 30 minutes."
    big.script["GroundedAnswer"] = [{"answer": answer, "citations": ["password-reset.md"]}]
    big.script["GroundingVerdict"] = [{"grounded": True, "unsupported_claims": []}]
    events, result = _stream_turn_with(data_dir, ResilientChatModel(primary=big), "t-wrapped")
    drafts = [e.text for e in events if e.kind == "token"]
    assert len(drafts) > 3 and drafts[-1] == answer
    assert result.answer.startswith(answer) and result.completion_tokens > 0


def test_broken_stream_falls_back_to_the_resilient_path(data_dir):
    """A primary whose stream fails at once still answers: the wrapper retries without streaming."""
    from app.llm.resilient import ResilientChatModel
    from app.llm.scripted import ScriptedChatModel

    class NoStream(ScriptedChatModel):
        def _stream(self, messages, stop=None, run_manager=None, **kwargs):
            raise ConnectionError("server does not speak SSE")
            yield  # pragma: no cover

    big = NoStream(model="big")
    answer = "Use Forgot password on the sign-in page."
    big.script["GroundedAnswer"] = [{"answer": answer, "citations": ["password-reset.md"]}]
    big.script["GroundingVerdict"] = [{"grounded": True, "unsupported_claims": []}]
    events, result = _stream_turn_with(data_dir, ResilientChatModel(primary=big), "t-nostream")
    assert [e.text for e in events if e.kind == "token"][-1] == answer  # delivered whole, not lost
    assert result.answer.startswith(answer) and result.grounded and result.llm_calls == 2  # clear support: no judge
