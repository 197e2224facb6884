"""Real ChatOpenAI clients (built from settings) against a local OpenAI-compatible server."""

from __future__ import annotations

from app.desk import SupportDesk
from app.services import Services
from tests.helpers import make_settings
from tests.stub_openai import OpenAIStub, error_reply, tool_reply


def _router(req: dict):
    tool = req["tools"][0]["function"]["name"]
    if tool == "TriageResult":
        return tool_reply({"intent": "password_reset", "confidence": 0.93}, 100, 10)
    if tool == "GroundedAnswer":
        return tool_reply({"answer": "Choose Forgot password on the sign-in page; the link is valid for 30 minutes.",
                           "citations": ["password-reset.md"]}, 400, 40)
    return tool_reply({"grounded": True, "unsupported_claims": []}, 300, 5)


def _settings(data_dir, url):
    return make_settings(data_dir, offline=False, openai_base_url=url, openai_api_key="test-key",
                         triage_model="small-model", research_model="big-model", triage_confidence=0.999,
                         llm_max_retries=0, llm_timeout=5)


def test_chat_openai_against_stub(data_dir):
    with OpenAIStub(_router) as stub:
        desk = SupportDesk(services=Services.from_settings(_settings(data_dir, stub.url)))
        r = desk.send("hey so I cannot get into my account, what now")
    assert r.intent == "password_reset" and r.outcome == "answered"
    assert r.citations[0]["doc_id"] == "password-reset.md"
    models = [(q["body"]["model"], q["body"]["tools"][0]["function"]["name"]) for q in stub.requests]
    assert models == [("small-model", "TriageResult"), ("big-model", "GroundedAnswer"),
                      ("big-model", "GroundingVerdict")]
    assert all(q["path"] == "/v1/chat/completions" for q in stub.requests)
    assert (r.llm_calls, r.prompt_tokens, r.completion_tokens) == (3, 800, 55)  # from the server's usage


def test_provider_down_falls_back_to_offline(data_dir):
    with OpenAIStub(lambda req: error_reply(500)) as stub:
        desk = SupportDesk(services=Services.from_settings(_settings(data_dir, stub.url)))
        r = desk.send("How do I reset my password?")
    assert stub.requests, "the client should have tried the provider"
    assert r.outcome == "answered" and r.citations[0]["doc_id"] == "password-reset.md"
    failed = [e for e in desk.services.audit.entries() if e["event"] == "llm_call"]
    assert failed and all("500" in e["reason"] for e in failed), [e["reason"] for e in failed]
