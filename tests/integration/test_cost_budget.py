"""Cost-aware routing: LLM only below the confidence threshold, cheap model for triage, per-turn budgets
that degrade to the offline path (never fail) and are recorded like a provider failure."""

from __future__ import annotations

from app.desk import SupportDesk
from app.llm.models import ModelRouter
from app.llm.scripted import ScriptedChatModel, echo_responder
from app.services import Services
from tests.helpers import make_settings


def _desk(data_dir, **settings):
    small = ScriptedChatModel(model="small", responder=echo_responder)
    big = ScriptedChatModel(model="big", responder=echo_responder)
    svc = Services(settings=make_settings(data_dir, offline=False, **settings),
                   models=ModelRouter(triage=small, research=big))
    return SupportDesk(services=svc), svc, small, big


def _budget_errors(svc) -> list[str]:
    return [e["reason"] for e in svc.audit.entries() if e["event"] == "llm_call" and "budget exceeded" in e["reason"]]


def test_confident_classifier_makes_no_llm_call(data_dir):
    desk, svc, small, big = _desk(data_dir, triage_confidence=0.0)
    r = desk.send("I want to cancel order #48213")
    assert r.intent == "cancel_order" and r.llm_calls == 0 and small.calls == [] and big.calls == []
    desk.close()


def test_call_budget_degrades_research_to_offline_path(data_dir):
    desk, svc, small, big = _desk(data_dir, triage_confidence=0.999, llm_max_calls_per_turn=1)
    small.script["TriageResult"] = [{"intent": "password_reset", "confidence": 0.9}]
    r = desk.send("How do I reset my password?")
    assert r.outcome == "answered" and r.intent == "password_reset" and r.answer  # extractive answer
    assert [c["tool"] for c in small.calls] == ["TriageResult"] and big.calls == []
    assert r.llm_calls == 2  # one real call and the refused answer call (an extractive answer needs no judge)
    errors = _budget_errors(svc)
    assert len(errors) == 1 and all("1 of 1 LLM calls" in e for e in errors)
    desk.close()


def test_token_budget_refuses_before_calling(data_dir):
    desk, svc, small, big = _desk(data_dir, triage_confidence=0.999, llm_max_tokens_per_turn=40)
    r = desk.send("please refund $40 for order #48213")
    assert small.calls == [] and r.outcome == "ticket_created" and r.intent == "refund_request"
    assert any("tokens used" in e for e in _budget_errors(svc))
    (ticket,) = svc.tickets.list()
    assert ticket["llm_calls"] == 1 and ticket["tokens"] == 0  # the refused call is on the ticket, at no cost
    desk.close()


def test_budget_is_per_turn(data_dir):
    desk, svc, small, big = _desk(data_dir, triage_confidence=0.999, llm_max_calls_per_turn=1)
    first = desk.send("How do I reset my password?")
    second = desk.send("And how long is the link valid?", thread_id=first.thread_id)
    assert len(small.calls) == 2 and big.calls == []  # each turn got its one call, for triage
    assert second.outcome == "answered"
    desk.close()


def test_tokens_recorded_in_state_and_ticket(data_dir):
    desk, svc, small, big = _desk(data_dir, triage_confidence=0.999)
    small.script["TriageResult"] = [{"intent": "refund_request", "confidence": 0.95, "amount": 40}]
    r = desk.send("please refund $40 for order #48213")
    assert r.llm_calls == 1 and r.prompt_tokens > 0 and r.completion_tokens > 0
    (ticket,) = svc.tickets.list()
    assert ticket["llm_calls"] == 1 and ticket["tokens"] == r.prompt_tokens + r.completion_tokens
    assert small.calls and not big.calls  # triage uses the cheap model
    desk.close()


