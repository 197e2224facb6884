"""agents/research/grounding.py: which sentences of an answer the retrieved text supports, and the verdict the
research agent keeps (lexical offline; the LLM judge only when word overlap cannot settle it)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from agents.research.grounding import CLEAR_OVERLAP, check, unsupported_sentences
from app.llm.scripted import ScriptedChatModel

PASSAGES = [
    {"doc_id": "refunds.md", "text": "## Refunds\nRefunds are paid back to the original card within 10 business days. "
                                     "Gift cards cannot be refunded."},
    {"doc_id": "password.md", "text": "Open Settings and choose Forgot password to get a reset link by email."},
]
CITED = [{"doc_id": "refunds.md", "title": "Refunds", "snippet": "…"}]


# ---- unsupported_sentences ----------------------------------------------------------------------------------
def test_sentences_taken_from_the_sources_are_supported():
    answer = "Refunds are paid back to the original card within 10 business days. Gift cards cannot be refunded."
    assert unsupported_sentences(answer, PASSAGES) == []


def test_a_sentence_the_sources_do_not_state_is_returned_as_written():
    answer = "Refunds are paid back to the original card within 10 business days. We also send a free voucher!"
    assert unsupported_sentences(answer, PASSAGES) == ["We also send a free voucher!"]


def test_support_must_come_from_one_source_sentence_not_the_whole_text():
    """Each word appears somewhere in the sources, but no single source sentence says this."""
    answer = "Gift cards are paid back within a reset link by email."
    assert unsupported_sentences(answer, PASSAGES) == [answer]


def test_the_threshold_decides_how_much_overlap_is_enough():
    answer = "Refunds are paid back to the original card quickly, usually by bank transfer."
    assert unsupported_sentences(answer, PASSAGES, threshold=0.3) == []
    assert unsupported_sentences(answer, PASSAGES, threshold=0.95) == [answer]


@pytest.mark.parametrize("changed", [
    "Refunds are paid back to the original card within 30 business days.",  # another number
    "Refunds are not paid back to the original card within 10 business days.",  # the opposite
])
def test_strict_support_needs_the_same_numbers_and_polarity(changed):
    assert unsupported_sentences(changed, PASSAGES) == []  # word overlap alone is fooled
    assert unsupported_sentences(changed, PASSAGES, strict=True) == [changed]


def test_sentences_without_content_words_are_not_judged_and_no_sources_support_nothing():
    assert unsupported_sentences("Thanks! Hello.", PASSAGES) == []
    assert unsupported_sentences("Refunds take 10 business days.", []) == ["Refunds take 10 business days."]


# ---- check: the verdict kept in state -------------------------------------------------------------------------
def services(judge=None, mode="auto"):
    models = SimpleNamespace(for_role=lambda role: judge)
    return SimpleNamespace(models=models, settings=SimpleNamespace(grounding_judge=mode), llm_limiter=None)


def research(answer, answered_by="extractive", **kw):
    return {"found": True, "answer": answer, "passages": PASSAGES, "citations": CITED, "answered_by": answered_by,
            **kw}


@pytest.mark.parametrize("found, citations", [(False, CITED), (True, [])])
def test_without_sources_nothing_is_grounded(found, citations):
    out, calls = check({**research("anything"), "found": found, "citations": citations}, services(), "")
    assert (out["grounded"], out["unsupported"], out["grounding_by"], calls) == (False, [], "no sources", [])


def test_offline_an_extractive_answer_is_settled_lexically():
    out, calls = check(research("Gift cards cannot be refunded."), services(), "")
    assert (out["grounded"], out["unsupported"], out["grounding_by"], calls) == (True, [], "lexical", [])


def test_offline_an_unsupported_sentence_is_named():
    given = research("Gift cards cannot be refunded. Call us for a free voucher.")
    out, calls = check(given, services(), "")
    assert out["grounded"] is False and out["unsupported"] == ["Call us for a free voucher."]
    assert out["grounding_by"] == "lexical" and calls == []
    assert "grounded" not in given  # a copy: the input state is left alone


def test_an_llm_answer_in_the_sources_words_needs_no_judge():
    judge = ScriptedChatModel()
    out, calls = check(research("Gift cards cannot be refunded.", "llm"), services(judge), "sources")
    assert (out["grounded"], out["grounding_by"], calls) == (True, "lexical (clear support)", [])
    assert judge.calls == []


def test_an_llm_answer_that_changes_a_number_goes_to_the_judge():
    judge = ScriptedChatModel(script={"GroundingVerdict": [{"grounded": False,
                                                            "unsupported_claims": ["within 3 days"]}]})
    answer = "Refunds are paid back to the original card within 3 business days."
    assert unsupported_sentences(answer, PASSAGES, CLEAR_OVERLAP, strict=True)  # why the judge is asked
    out, calls = check(research(answer, "llm"), services(judge), "the sources")
    assert (out["grounded"], out["unsupported"], out["grounding_by"]) == (False, ["within 3 days"], "llm judge")
    assert len(calls) == 1 and calls[0]["agent"] == "grounding" and calls[0]["error"] is None
    assert "the sources" in judge.calls[0]["prompt"] and answer in judge.calls[0]["prompt"]


def test_always_mode_asks_the_judge_even_for_clear_support():
    judge = ScriptedChatModel(script={"GroundingVerdict": [{"grounded": True, "unsupported_claims": []}]})
    out, calls = check(research("Gift cards cannot be refunded.", "llm"), services(judge, "always"), "")
    assert (out["grounded"], out["grounding_by"], len(calls)) == (True, "llm judge", 1)


def test_a_failed_judge_falls_back_to_the_lexical_verdict_and_records_the_call():
    judge = ScriptedChatModel(script={"GroundingVerdict": [RuntimeError("provider down")]})
    answer = "Refunds are paid back to the original card within 3 business days."
    out, calls = check(research(answer, "llm"), services(judge), "")
    assert out["grounding_by"] == "lexical (judge failed)"
    assert out["grounded"] is True  # plain overlap accepts it, as offline would
    assert len(calls) == 1 and "provider down" in calls[0]["error"]
