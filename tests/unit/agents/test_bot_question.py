"""Asking whether the desk is a bot (agents/turn/smalltalk.py) is a question to answer honestly, not a request for a
person: recognised by its mark, by ending there, or as an alternative question, whatever follows."""

from __future__ import annotations

import pytest

from agents.turn import smalltalk


@pytest.mark.parametrize("text", [
    "are you a bot?", "is this a real person", "am I talking to a human right now?",
    "r u a human or just some chatbot haha", "sei un robot o una persona vera", "bist du ein Mensch oder eine KI",
])
def test_the_question_is_recognised(text):
    assert smalltalk.asks_if_bot(text)


@pytest.mark.parametrize("text", [
    "I want a real person or a manager now", "I am a person or whatever, refund BW-10001",
    "put me through to a human agent please",
])
def test_a_request_for_a_person_is_not_a_question_about_the_bot(text):
    assert not smalltalk.asks_if_bot(text)
