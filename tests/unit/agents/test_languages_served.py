"""Italian, Dutch and Portuguese are served like French, German and Spanish (#27, item 8): their support words
reach the English classifier, their small talk gets a reply in their language, and their "yes" confirms. Before
this, the glossary had no section for them, so an Italian refund request reached the classifier as almost nothing."""

from __future__ import annotations

import pytest

from agents.language import gloss
from agents.supervisor.replies import REPLIES
from agents.turn.slots import NO, YES
from agents.turn.smalltalk import match


@pytest.mark.parametrize(("text", "lang", "words"), [
    ("Potete annullare il mio ordine BW-31415? Non è ancora partito.", "it", ("cancel", "order")),
    ("Ik wil graag mijn geld terug voor bestelling BW-27182, de oplader is kapot.", "nl",
     (("refund", "money back"), "order")),
    ("Esqueci-me da palavra-passe e não consigo entrar na conta.", "pt", ("password",)),
])
def test_support_words_reach_the_english_classifier(text, lang, words):
    english = gloss(text, lang) or ""
    assert all(any(w in english for w in (one if isinstance(one, tuple) else (one,))) for one in words), english


@pytest.mark.parametrize(("text", "intent", "lang"), [
    ("Grazie mille, gentilissimi!", "thanks", "it"),
    ("Goedemiddag!", "greeting", "nl"),
    ("Muito obrigado pela ajuda", "thanks", "pt"),
    ("Tot ziens!", "goodbye", "nl"),
])
def test_small_talk_is_recognised_and_answered_in_its_language(text, intent, lang):
    got = match(text)
    assert got is not None and got[0] == intent
    if got[1]:
        assert got[1] == lang and lang in REPLIES[intent]


@pytest.mark.parametrize("text", ["sì, procedi pure", "ja, dat klopt", "sim, pode ser", "oui, c'est ça"])
def test_a_yes_in_the_customers_language_confirms(text):
    assert YES.search(text) and not NO.search(text)
