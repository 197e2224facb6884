"""Small talk read as a dialogue act (agents/turn/smalltalk.py). Asking whether the desk is a bot is a question to
answer honestly, not a request for a person: recognised by its mark, by ending there, or as an alternative
question, whatever follows. Thanks with a remark is still thanks."""

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


@pytest.mark.parametrize("text", ["Thank you so much, that was quick!!\n\nMei", "thanks so much, you guys are great",
                                  "Merci beaucoup, super rapide"])
def test_thanks_with_a_remark_is_thanks(text):
    """"…that was quick!!" above a quoted refund mail opened a ticket: every word had to be in the lexicon."""
    assert smalltalk.match(text)[0] == "thanks"


@pytest.mark.parametrize("text", ["Thanks, and please cancel my other order", "thanks, my headphones are broken though",
                                  "Thanks! Can you also check BW-10001?", "thanks, I want a refund too"])
def test_thanks_with_more_to_say_is_not_small_talk(text):
    assert (smalltalk.match(text) or ("",))[0] != "thanks"
