"""A request for a person, or coming back again and again, escalates whatever else the message holds (#27, item
5). Before this the classifier read the topic: "third time I'm writing … I want to speak to a manager" was
out_of_scope, and "not one reply from an actual human" got the same self-help text again."""

from __future__ import annotations

import pytest

from agents.triage.handoff import wants_person


@pytest.mark.parametrize("text", [
    "Fifth email about the same broken kettle. Get me a supervisor.",
    "honestly I have written to you four times now and nothing happens",
    "tried everything you said already, I need someone to actually look at this",
    "human please",
    "Posso parlare con un operatore? Grazie",
    "Ik wil graag met een medewerker praten.",
    "Pourriez-vous me passer un conseiller, je veux parler à un conseiller",
    "Ich will endlich mit einem Mitarbeiter sprechen!",
    "Por favor, quiero hablar con una persona.",
    "Preciso falar com um atendente urgente",
    # put me through, in the languages' own verbs of transfer
    "Comuníqueme con el encargado, por favor.",
    "Passez-moi un responsable, svp",
    "mi passi un operatore, grazie",
    "Verbinden Sie mich bitte mit einem Vorgesetzten.",
    "me passe para um atendente",
])
def test_a_request_for_a_person_is_recognised(text):
    assert wants_person(text)


@pytest.mark.parametrize("text", [
    "How do I talk to a human agent?",
    "pásame el enlace de seguimiento de BW-10001",
    "Can someone help me reset my password?",
    "Is this a real person?",
    "The person at the door said the parcel was for my neighbour",
    "Refund $40 for BW-12345 please",
])
def test_a_question_about_people_is_not_a_request_for_one(text):
    assert not wants_person(text)


def test_too_many_attempts_at_a_password_is_not_repeat_contact():
    """"too many times" (the password lock-out) was read as coming back again and again, and escalated."""
    assert not wants_person("I typed my password wrong too many times and now I'm locked out. How long do I wait?")
