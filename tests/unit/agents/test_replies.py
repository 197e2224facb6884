"""Templated replies and the small-talk rules on their own (agents/supervisor/replies.py, conversation.compose_reply,
agents/turn/smalltalk.py, speech acts); the same turns through the desk are
tests/integration/test_conversation_turns.py."""

from __future__ import annotations

import pytest

from agents.supervisor import replies
from agents.supervisor.conversation import compose_reply
from agents.turn import smalltalk
from agents.turn.speech_act import speech_act


@pytest.mark.parametrize("lang,answered_by,note", [
    ("fr", "extractive", "Voici la réponse de notre centre d'aide (en anglais) :"),
    ("de", "extractive", "Hier ist die Antwort aus unserem Hilfe-Center (auf Englisch):"),
    ("es", "extractive", "Esta es la respuesta de nuestro centro de ayuda (en inglés):"),
    ("en", "extractive", ""),
    ("fr", "llm", ""),  # the LLM answers in the customer's language itself
])
def test_offline_answer_says_it_is_from_the_english_help_centre(lang, answered_by, note):
    state = {"triage": {"intent": "password_reset", "kind": "question", "language": lang},
             "research": {"grounded": True, "answer": "Use Forgot password.", "answered_by": answered_by,
                          "citations": [{"doc_id": "password-reset.md", "title": "Reset", "snippet": "…"}]}}
    text, outcome = compose_reply(state)
    assert outcome == "answered" and text.startswith(note) and "Use Forgot password." in text


def test_rules_leave_real_requests_to_the_classifier():
    for text in ["Hi, I want a refund for #55120", "thanks, but I still can't log in", "hello, where is BW-12345?",
                 "Is my Brightwave order delayed by the snow?"]:
        assert smalltalk.match(text) is None and not smalltalk.off_topic(text), text
    assert speech_act("how do I cancel, actually just cancel it for me") == "request"
    assert replies.conversational({"intent": "unclear", "clarification": 2, "language": "xx"}).startswith("Sorry")
