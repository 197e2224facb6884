"""Reading realistic wording (agents/language.py): misspelt support words, the language detector on short text and
glosses of foreign phrases (issue #15, items 8 and 10). Whole turns in other languages are
tests/integration/test_conversation_turns.py and tests/integration/test_turn_answers.py."""

from __future__ import annotations

import pytest

from agents import language


@pytest.mark.parametrize("typo,meant", [
    ("i want to cancle an order i placed this morning", "cancel"),
    ("how do i resett my pasword", "password"),
    ("refnud my oder plz", "refund"),
])
def test_misspelt_support_words_are_read_as_meant(typo, meant):
    assert meant in language.respell(typo).split()


def test_respelling_leaves_real_words_alone():
    text = "I want to speak to someone about my older charger, a coder and a member"
    assert language.respell(text) == text


@pytest.mark.parametrize("message,english", [
    ("Bonjour, je n'ai pas reçu mon colis", "not received"),
    ("No he recibido mi paquete", "not received"),
    ("Ich habe mein Paket nicht erhalten", "not received"),
])
def test_not_received_is_not_a_receipt(message, english):
    assert english in language.gloss(message, language.detect(message))


def test_language_detector_abstains_on_short_text():
    assert language.detect("ok") is None and language.detect("cancel order BW-1") is None
    assert language.detect("Wie lange dauert es, bis eine Rückerstattung auf meiner Karte ist?") == "de"
    assert "password" in language.gloss("Bonjour, comment réinitialiser mon mot de passe ?", "fr")
    assert language.gloss("anything", "en") is None
