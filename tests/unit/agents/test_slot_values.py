"""Slot values are validated by type (#27, item 4): a name looks like a name, an email passes email-validator, a
phone number passes phonenumbers; a value that does not fit is asked for again, naming what was wrong. Before
this, "the account is still in my maiden name, can you update it" became the new name."""

from __future__ import annotations

from agents.turn import slots

WANT = ["field", "value"]


def test_a_sentence_about_a_name_is_not_the_name_and_the_next_reply_is():
    args, filled = slots.apply({}, {}, "the account is still in my maiden name, can you update it", WANT)
    assert args.get("field") == "name" and "value" not in args
    args, filled = slots.apply(args, {}, "Bianchi", ["value"], reply=True)
    assert args["value"] == "Bianchi" and "rejected" not in args


def test_a_malformed_email_is_refused_with_the_reason_and_asked_again():
    args, _ = slots.apply({}, {}, "please change my email to giulia@@example.com", WANT)
    assert args.get("field") == "email" and "value" not in args
    question = slots.question("account_change", args, ["value"])
    assert "giulia@@example.com" in question and "email" in question.lower()


def test_an_incomplete_phone_number_is_refused():
    args, _ = slots.apply({"field": "phone"}, {}, "55501", ["value"], reply=True)
    assert "value" not in args and "phone number" in slots.question("account_change", args, ["value"])


def test_a_real_name_with_particles_is_a_name():
    args, _ = slots.apply({"field": "name"}, {}, "Maria van der Berg", ["value"], reply=True)
    assert args["value"] == "Maria van der Berg"
