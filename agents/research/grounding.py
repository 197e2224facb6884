"""Grounding check: every answer is checked against the retrieved text before it reaches the customer.

A cascade, cheap first. The lexical check always runs. An answer whose every sentence is *clearly*
supported (most of its words, all of its numbers and its negations in one retrieved sentence) is
accepted without an LLM call; anything else goes to the LLM judge when one is configured, because
a paraphrase can be right where word overlap is not. `grounding_judge="always"` sends every LLM
answer to the judge. The verdict and who gave it are kept in state and audited.
"""

from __future__ import annotations

import re

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from agents.llm import ask_structured
from agents.services import Services
from knowledge.text import split_sentences, tokens

JUDGE_PROMPT = """You check whether an answer is fully supported by the sources.
List every claim in the answer that the sources do not state. grounded=true only if there is none.
The answer may be in another language than the sources; judge what it says, not its wording.

Sources:
{sources}"""

SUPPORT_OVERLAP = 0.6  # offline verdict: a sentence with less overlap than this is unsupported
CLEAR_OVERLAP = 0.8  # LLM mode: at or above this (numbers and negations matching too) the judge is not asked
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)?")
_NEGATION_RE = re.compile(r"\b(?:not|no|never|cannot|can't|don't|doesn't|won't|isn't|aren't|without|nor)\b", re.I)


class GroundingVerdict(BaseModel):
    """Whether every claim of the answer is supported by the sources."""

    grounded: bool
    unsupported_claims: list[str] = Field(default_factory=list)


def _source_sentences(passages: list[dict]) -> list[str]:
    return [s for p in passages for s in split_sentences(p["text"])]


def _support(sentence: str, sources: list[tuple[str, set[str]]], strict: bool) -> float:
    """Best share of the sentence's words found in one source sentence; strict also requires that
    source sentence to carry the same numbers and the same polarity."""
    words = set(tokens(sentence))
    numbers = set(_NUMBER_RE.findall(sentence))
    negated = bool(_NEGATION_RE.search(sentence))
    best = 0.0
    for text, src in sources:
        if strict and (not numbers <= set(_NUMBER_RE.findall(text)) or negated != bool(_NEGATION_RE.search(text))):
            continue
        best = max(best, len(words & src) / len(words))
    return best


def unsupported_sentences(answer_text: str, passages: list[dict], threshold: float = SUPPORT_OVERLAP,
                          strict: bool = False) -> list[str]:
    """Sentences of the answer whose words are mostly absent from every retrieved sentence."""
    sources = [(s, set(tokens(s))) for s in _source_sentences(passages)]
    return [s for s in split_sentences(answer_text)
            if tokens(s) and _support(s, sources, strict) < threshold]


def _judge(research: dict, svc: Services, sources: str) -> tuple[GroundingVerdict | None, dict]:
    messages = [SystemMessage(JUDGE_PROMPT.format(sources=sources)),
                HumanMessage(f"Answer to check:\n{research['answer']}")]
    return ask_structured(svc.models.for_role("grounding"), GroundingVerdict, messages, "grounding", svc.llm_limiter)


def check(research: dict, svc: Services, sources: str) -> tuple[dict, list[dict]]:
    """(research with grounded / unsupported / grounding_by, LLM calls made)."""
    research = dict(research)
    if not research["found"] or not research.get("citations"):
        research.update(grounded=False, unsupported=[], grounding_by="no sources")
        return research, []
    calls, by = [], "lexical"
    if research.get("answered_by") == "llm":  # extractive answers are source sentences: lexical settles them
        if svc.settings.grounding_judge != "always" and not unsupported_sentences(
                research["answer"], research["passages"], CLEAR_OVERLAP, strict=True):
            research.update(grounded=True, unsupported=[], grounding_by="lexical (clear support)")
            return research, []
        verdict, call = _judge(research, svc, sources)
        calls, by = [call], "lexical (judge failed)"
        if verdict is not None:
            research.update(grounded=verdict.grounded, unsupported=verdict.unsupported_claims, grounding_by="llm judge")
            return research, calls
    missing = unsupported_sentences(research["answer"], research["passages"])
    research.update(grounded=not missing, unsupported=missing, grounding_by=by)
    return research, calls
