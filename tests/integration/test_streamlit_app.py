"""The customer chat page (the console's default page), driven through AppTest against a real data directory.

The customer sees the conversation, its sources and where their request stands; never the team's review
controls, action JSON or internal ids. The team's pages: tests/integration/test_streamlit_pages.py; a real browser:
tests/system/test_browser_streamlit.py.
"""

from __future__ import annotations

import json
import threading

from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from tests.helpers import REFUND, everything, make_settings

UNANSWERABLE = "Do you ship to Antarctica by drone?"  # nothing in the sample help centre covers it


def texts(at) -> str:
    return " ".join(m.markdown[-1].value for m in at.chat_message if m.markdown)


def test_question_answered_with_citation_in_one_bubble_per_message(app):
    app.chat_input[0].set_value("How do I reset my password?").run()
    assert not app.exception
    assert [m.name for m in app.chat_message] == ["user", "assistant"]  # one bubble per message, no extra
    assert "password" in texts(app).lower()
    # The source once, by its title, under the answer; no file name and no second "Sources:" line in the bubble.
    assert any(e.label.startswith("Source: ") and "password" in e.label for e in app.expander)
    assert not [e for e in app.expander if ".md" in e.label] and "Sources:" not in texts(app)
    (progress,) = [e for e in app.expander if e.label == "How we handled your last message"]
    lines = progress.markdown[0].value
    assert lines.index("Research is looking into it") < lines.index("✓ Research finished")


def test_paused_refund_shows_no_review_controls_or_internal_ids(app, desk):
    from app.ui.auth import Identity

    app.chat_input[0].set_value(REFUND).run()
    tid = app.session_state["thread_id"]
    review = desk.get(tid).pending_review
    meta = review["metadata"]
    assert review and meta["rule_id"] and meta["reviewer_role"]  # the review the team sees is there
    assert any("With our team" in i.value for i in app.info)
    # Even a reviewer signed in on the same browser session gets no controls on the customer's page.
    app.session_state["identity"] = Identity("ana", "Ana", ("billing-lead",), 2000.0)
    app.run()
    labels = [b.label for b in app.button]
    assert not {"Approve", "Edit", "Reject"} & set(labels), labels
    assert not app.json and not app.code  # no raw action JSON
    seen = everything(app)
    for internal in (tid, meta["rule_id"], meta["reviewer_role"], meta.get("queue"), meta.get("policy_version")):
        assert not internal or str(internal) not in seen, internal
    assert "Team sign-in" not in seen and "Kill switch" not in seen  # the team's sidebar is not here


def test_customer_keeps_writing_while_review_pending(app, desk):
    """The desk accepts messages while a review waits: a detail joins the request, a question is answered on
    the side. The chat shows both exchanges and stays "with our team", with no error."""
    app.chat_input[0].set_value(REFUND).run()
    tid = app.session_state["thread_id"]
    app.chat_input[0].set_value("the speaker crackles").run()
    assert not app.exception and not app.error
    assert any("With our team" in i.value for i in app.info)
    assert "added that to your request" in texts(app)
    (item,) = desk.inbox()
    assert [n["text"] for n in item["customer_notes"]] == ["the speaker crackles"]  # the reviewer sees it
    app.chat_input[0].set_value("How do I reset my password?").run()
    assert not app.exception and not app.error
    bubbles = [m.markdown[-1].value for m in app.chat_message if m.markdown]
    asked = bubbles.index("How do I reset my password?")
    assert "password" in bubbles[asked + 1].lower()  # answered right under the question
    assert desk.get(tid).pending_review  # and the request still waits
    # Kept by the desk, not the browser session: after a reload, in another tab, over HTTP it is still there.
    history = desk.history(tid)
    asked_at = next(i for i, m in enumerate(history) if m["content"] == "How do I reset my password?")
    assert history[asked_at]["aside"] and "password" in history[asked_at + 1]["content"].lower()
    desk.approve(tid, reviewer="ana")
    app.run()
    assert "approved after review" in texts(app) and not app.info
    assert "How do I reset my password?" in texts(app)  # the side exchange is still in the conversation


def test_bad_input_while_review_pending_is_refused_at_once(app, desk):
    app.chat_input[0].set_value(REFUND).run()
    app.chat_input[0].set_value("abc\x00def").run()
    assert any("binary" in e.value for e in app.error)
    (item,) = desk.inbox()
    assert not item.get("customer_notes")


def test_clarifying_question_is_shown_as_a_question(app):
    app.chat_input[0].set_value("I want a refund").run()
    assert not app.exception
    (answer,) = [m for m in app.chat_message if m.name == "assistant"]
    assert "?" in answer.markdown[-1].value
    assert any("A quick question" in c.value for c in app.caption)


def test_person_reply_shows_in_the_chat_and_writing_again_reopens(app, desk):
    """A reply on the ticket lands in the customer's chat; their next message (streamed by the page, not sent
    through desk.send) continues the same thread and reopens the solved ticket."""
    app.chat_input[0].set_value(UNANSWERABLE).run()
    tid = app.session_state["thread_id"]
    (ticket,) = desk.tickets.list(thread_id=tid)
    assert any(f"**{ticket['id']}**" in c.value for c in app.caption)  # the ticket reference, nothing else
    desk.tickets.reply(ticket["id"], "ana", "We do ship there, by air freight.", status="solved")  # works general
    app.run()
    person = [m for m in app.chat_message if any("Reply from our support team" in c.value for c in m.caption)]
    assert [m.markdown[-1].value for m in person] == ["We do ship there, by air freight."]
    assert "ana" not in " ".join(c.value for m in person for c in m.caption)
    app.chat_input[0].set_value("Great, how long does it take?").run()
    assert not app.exception
    assert desk.tickets.store.get(ticket["id"])["status"] == "reopened"
    assert app.session_state["thread_id"] == tid
    assert [m["content"] for m in desk.history(tid) if m["role"] == "human"][-1] == "Great, how long does it take?"


def test_bad_message_shows_error(app):
    app.chat_input[0].set_value("abc\x00def").run()
    assert not app.exception
    assert any("binary" in e.value for e in app.error)


def test_conversations_reopen_by_time_status_and_preview(app):
    app.chat_input[0].set_value("How do I reset my password?").run()
    first = app.session_state["thread_id"]
    next(b for b in app.sidebar.button if b.label == "New conversation").click().run()
    assert app.session_state["thread_id"] != first and "password" not in texts(app).lower()
    box = next(s for s in app.sidebar.selectbox if s.label == "Reopen a conversation")
    assert box.options[0] == "This conversation (new)"
    (label,) = box.options[1:]  # this visit's conversation (others': tests/integration/test_console_customers.py)
    assert "answered" in label and "password" in label.lower() and first not in label  # no bare hex id
    box.select(first).run()
    assert app.session_state["thread_id"] == first
    assert "password" in texts(app).lower()


def test_streamed_turn_holds_the_thread_lock(desk):
    """While the page streams a turn, no other writer (a person's reply, a second tab) gets the thread."""
    from app.desk import ThreadBusyError

    def other_writer() -> str:
        got: list[str] = []

        def attempt():
            try:
                desk.runner.locks.acquire("t-lock", timeout=0.3).release()
                got.append("acquired")
            except ThreadBusyError:
                got.append("busy")

        t = threading.Thread(target=attempt)
        t.start()
        t.join()
        return got[0]

    events = iter(desk.stream("How do I reset my password?", thread_id="t-lock"))
    next(events)  # the run is under way
    assert other_writer() == "busy"
    list(events)
    assert other_writer() == "acquired"
    assert desk.get("t-lock").outcome == "answered"


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

    small, big = ScriptedChatModel(model="small"), _streaming_model()
    small.script["TriageResult"] = [{"intent": "password_reset", "confidence": 0.95}]
    answer = "Use Forgot password on the sign-in page. The link lasts 30 minutes. Check your spam folder too."
    big.script["GroundedAnswer"] = [{"answer": answer, "citations": ["password-reset.md"]}]
    big.script["GroundingVerdict"] = [{"grounded": True, "unsupported_claims": []}]
    svc = Services(settings=make_settings(data_dir, offline=False, triage_confidence=0.999),
                   models=ModelRouter(triage=small, research=big))
    desk = SupportDesk(services=svc)
    try:
        events = list(desk.stream("I can't get into my account, what do I do?", thread_id="t-stream"))
        result = desk.get("t-stream")
    finally:
        desk.close()
    drafts = [e.text for e in events if e.kind == "token"]
    # the draft grows a screened sentence at a time (app/streaming.py), the last one when the draft is whole
    assert drafts == ["Use Forgot password on the sign-in page.",
                      "Use Forgot password on the sign-in page. The link lasts 30 minutes.", answer]
    finished = [e.agent for e in events if e.kind == "finished"]
    assert finished == ["triage", "research"]
    assert result.answer.startswith(answer) and result.llm_calls == 3 and result.completion_tokens > 0


def test_tokens_stream_only_when_usage_is_reported(desk):
    from langchain_openai import ChatOpenAI

    from app.llm.models import ModelRouter
    from app.streaming import streams_tokens

    assert not streams_tokens(desk.services)  # offline: nothing to stream
    quiet = ChatOpenAI(model="m", api_key="k", base_url="http://127.0.0.1:9/v1")  # streamed calls carry no usage
    desk.services.models = ModelRouter(triage=quiet, research=quiet)
    assert not streams_tokens(desk.services)
    counted = ChatOpenAI(model="m", api_key="k", base_url="http://127.0.0.1:9/v1", stream_usage=True)
    desk.services.models = ModelRouter(triage=counted, research=counted)
    assert streams_tokens(desk.services)


def _stream_turn_with(data_dir, research_model, thread_id: str):
    from app.desk import SupportDesk
    from app.llm.models import ModelRouter
    from app.llm.scripted import ScriptedChatModel
    from app.services import Services

    small = ScriptedChatModel(model="small")
    small.script["TriageResult"] = [{"intent": "password_reset", "confidence": 0.95}]
    svc = Services(settings=make_settings(data_dir, offline=False, triage_confidence=0.999),
                   models=ModelRouter(triage=small, research=research_model))
    desk = SupportDesk(services=svc)
    try:
        events = list(desk.stream("I can't get into my account, what do I do?", thread_id=thread_id))
        return events, desk.get(thread_id)
    finally:
        desk.close()


def test_tokens_stream_through_the_resilient_wrapper(data_dir):
    """The provider wrapper used in LLM mode passes the primary model's token stream through."""
    from app.llm.resilient import ResilientChatModel

    big = _streaming_model()
    answer = "Use Forgot password on the sign-in page. The link lasts 30 minutes. Check your spam folder too."
    big.script["GroundedAnswer"] = [{"answer": answer, "citations": ["password-reset.md"]}]
    big.script["GroundingVerdict"] = [{"grounded": True, "unsupported_claims": []}]
    events, result = _stream_turn_with(data_dir, ResilientChatModel(primary=big), "t-wrapped")
    drafts = [e.text for e in events if e.kind == "token"]
    assert drafts == ["Use Forgot password on the sign-in page.",
                      "Use Forgot password on the sign-in page. The link lasts 30 minutes.", answer]
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
