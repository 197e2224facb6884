"""The core flows in LLM mode, with a scripted fake chat model standing in for the provider."""

from __future__ import annotations

import pytest

from app.desk import SupportDesk
from app.llm.models import ModelRouter
from app.llm.scripted import ScriptedChatModel
from app.services import Services
from tests.helpers import make_settings


def _triage(intent: str, **extra) -> dict:
    return {"intent": intent, "confidence": 0.95, **extra}


@pytest.fixture
def llm(data_dir):
    small = ScriptedChatModel(model="small")
    big = ScriptedChatModel(model="big")
    svc = Services(settings=make_settings(data_dir, offline=False, triage_confidence=0.999),
                   models=ModelRouter(triage=small, research=big))
    desk = SupportDesk(services=svc)
    yield desk, svc, small, big
    desk.close()


def test_question_answered_by_llm_with_checked_citations(llm):
    desk, svc, small, big = llm
    small.script["TriageResult"] = [_triage("password_reset")]
    big.script["GroundedAnswer"] = [{"answer": "Use Forgot password on the sign-in page. The link lasts 30 minutes.",
                                     "citations": ["password-reset.md", "made-up-doc.md"]}]
    big.script["GroundingVerdict"] = [{"grounded": True, "unsupported_claims": []}]
    r = desk.send("I can't get into my account any more, what do I do?")
    assert r.intent == "password_reset" and r.outcome == "answered" and r.grounded is True
    assert [c["doc_id"] for c in r.citations] == ["password-reset.md"]  # uncited/unretrieved id dropped
    assert r.answer.startswith("Use Forgot password")
    assert r.llm_calls == 3 and r.prompt_tokens > 0 and r.completion_tokens > 0  # a paraphrase: the judge decides
    assert [c["tool"] for c in small.calls] == ["TriageResult"]  # cheap model: triage only
    assert [c["tool"] for c in big.calls] == ["GroundedAnswer", "GroundingVerdict"]
    assert "password-reset.md" in big.calls[0]["prompt"]  # sources were in the prompt


def test_answer_in_the_sources_words_needs_no_judge_call(llm):
    desk, svc, small, big = llm
    small.script["TriageResult"] = [_triage("password_reset")]
    big.script["GroundedAnswer"] = [{"answer": "A reset link is valid for 30 minutes and works only once.",
                                     "citations": ["password-reset.md"]}]
    r = desk.send("How long does the reset link work?")
    assert r.outcome == "answered" and r.grounded is True and r.llm_calls == 2
    assert [c["tool"] for c in big.calls] == ["GroundedAnswer"]
    research = desk.graph.get_state({"configurable": {"thread_id": r.thread_id}}).values["research"]
    assert research["grounding_by"] == "lexical (clear support)" and research["answered_by"] == "llm"


@pytest.mark.parametrize("answer", [
    "A reset link is valid for 60 minutes and works only once.",  # same words, another number
    "A reset link is not valid for 30 minutes and works only once.",  # same words, negated
])
def test_near_copies_that_change_a_number_or_polarity_go_to_the_judge(llm, answer):
    desk, svc, small, big = llm
    small.script["TriageResult"] = [_triage("password_reset")]
    big.script["GroundedAnswer"] = [{"answer": answer, "citations": ["password-reset.md"]}]
    big.script["GroundingVerdict"] = [{"grounded": False, "unsupported_claims": [answer]}]
    r = desk.send("How long does the reset link work?")
    assert [c["tool"] for c in big.calls] == ["GroundedAnswer", "GroundingVerdict"]
    assert r.grounded is False and answer not in r.answer


def test_grounding_judge_always_checks_every_llm_answer(data_dir):
    small, big = ScriptedChatModel(model="small"), ScriptedChatModel(model="big")
    svc = Services(settings=make_settings(data_dir, offline=False, triage_confidence=0.999, grounding_judge="always"),
                   models=ModelRouter(triage=small, research=big))
    small.script["TriageResult"] = [_triage("password_reset")]
    big.script["GroundedAnswer"] = [{"answer": "A reset link is valid for 30 minutes and works only once.",
                                     "citations": ["password-reset.md"]}]
    big.script["GroundingVerdict"] = [{"grounded": True, "unsupported_claims": []}]
    desk = SupportDesk(services=svc)
    try:
        r = desk.send("How long does the reset link work?")
    finally:
        desk.close()
    assert [c["tool"] for c in big.calls] == ["GroundedAnswer", "GroundingVerdict"] and r.grounded is True


def test_ungrounded_answer_is_withheld_and_flagged(llm):
    desk, svc, small, big = llm
    small.script["TriageResult"] = [_triage("shipping_info")]
    big.script["GroundedAnswer"] = [{"answer": "Express shipping is free on Tuesdays.",
                                     "citations": ["shipping-options.md"]}]
    big.script["GroundingVerdict"] = [{"grounded": False, "unsupported_claims": ["free on Tuesdays"]}]
    r = desk.send("Is express shipping free on some days?")
    assert r.grounded is False and r.outcome == "ticket_created"
    assert "Tuesdays" not in r.answer
    (ticket,) = svc.tickets.list()
    assert ticket["action"]["name"] == "follow_up"


def test_small_refund_in_llm_mode(llm):
    desk, svc, small, big = llm
    small.script["TriageResult"] = [_triage("refund_request", amount=40, order_id="48213")]
    r = desk.send("please refund $40 for order #48213")
    assert r.outcome == "ticket_created" and r.policy["rule_id"] == "refund-auto-approve"
    assert len(svc.tickets.list()) == 1
    assert big.calls == []  # action requests cite policy text extractively: no research LLM call
    assert r.llm_calls == 1


@pytest.mark.parametrize("decision,tickets,outcome", [
    ({"type": "approve", "reviewer": "ana"}, 1, "ticket_created"),
    ({"type": "reject", "reviewer": "ana", "message": "Not eligible."}, 0, "refused"),
    ({"type": "edit", "reviewer": "ana",
      "edited_action": {"name": "refund", "args": {"amount": 300, "order_id": "55120", "currency": "USD"}}},
     1, "ticket_created"),
])
def test_big_refund_review_in_llm_mode(llm, data_dir, decision, tickets, outcome):
    desk, svc, small, big = llm
    small.script["TriageResult"] = [_triage("refund_request", amount=900)]
    r = desk.send("I want a refund of $900 for order #55120")
    assert r.outcome == "escalated_pending_review"
    other = SupportDesk(services=Services(settings=svc.settings, models=svc.models))  # a separate desk/checkpointer
    done = other.resume(r.thread_id, {"decisions": [decision]})
    assert done.outcome == outcome
    assert len(svc.tickets.list()) == tickets
    if decision["type"] == "edit":
        assert done.policy["rule_id"] == "refund-auto-approve"
        assert svc.tickets.list()[0]["action"]["args"]["amount"] == 300
    if decision["type"] == "reject":
        assert done.answer == "Not eligible."


def test_llm_failure_falls_back_and_is_recorded(llm):
    desk, svc, small, big = llm
    small.script["TriageResult"] = [RuntimeError("provider exploded")]
    big.script["GroundedAnswer"] = [TimeoutError("slow")]
    r = desk.send("How do I reset my password?")
    assert r.outcome == "answered" and r.intent == "password_reset"  # offline classifier + extractive answer
    assert [c["tool"] for c in big.calls] == ["GroundedAnswer"]  # source sentences need no judge
    calls = svc.audit.entries()
    reasons = [e["reason"] for e in calls if e["event"] == "llm_call"]
    assert any("provider exploded" in x for x in reasons) and any("slow" in x for x in reasons)


def test_unparseable_judge_verdict_falls_back_to_the_lexical_check(llm):
    desk, svc, small, big = llm
    small.script["TriageResult"] = [_triage("shipping_info")]
    big.script["GroundedAnswer"] = [{"answer": "Express shipping is free on Tuesdays.",
                                     "citations": ["shipping-options.md"]}]
    big.script["GroundingVerdict"] = [{"not": "a verdict"}]
    r = desk.send("Is express shipping free on some days?")
    assert r.grounded is False and "Tuesdays" not in r.answer
    reasons = [e["reason"] for e in svc.audit.entries() if e["event"] == "llm_call"]
    assert any("unparseable" in x for x in reasons)
    research = desk.graph.get_state({"configurable": {"thread_id": r.thread_id}}).values["research"]
    assert research["grounding_by"] == "lexical (judge failed)"


def test_prompts_never_contain_raw_contact_details(llm):
    desk, svc, small, big = llm
    small.script["TriageResult"] = [_triage("change_account_details")]
    desk.send("Change my email to jane.doe@example.com and phone to 555-201-3344", customer={"verified": True})
    prompt = small.calls[0]["prompt"]
    assert "jane.doe@example.com" not in prompt and "555-201-3344" not in prompt
    assert "[EMAIL]" in prompt and "[PHONE]" in prompt
