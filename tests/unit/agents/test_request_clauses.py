"""A request in the last clause of a one-sentence story is found ("my account was hacked and someone placed an
order with it, cancel it now"): before, only whole sentences were read alone, so the story's topic (account
security) won over the cancellation it asked for."""

from __future__ import annotations

from agents.turn.speech_act import request_sentences


def test_the_request_clause_of_a_one_sentence_story_is_found():
    assert request_sentences("My account was hacked and someone placed an order with it, cancel it now") == [
        "cancel it now"]


def test_a_sentence_without_a_request_clause_gives_none():
    assert request_sentences("The speaker arrived yesterday, it sounds great") == []
