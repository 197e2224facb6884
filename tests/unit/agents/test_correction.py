"""Corrections are a dialogue act (#27, item 3): the value taken back is not the one acted on, and a corrected
amount is confirmed before it runs. Before this, the first order or the largest amount named won."""

from __future__ import annotations

import pytest

from agents.triage.signals import extract_entities


@pytest.mark.parametrize(("text", "order", "amount"), [
    ("Cancel BW-30118 please. Oops, wrong number, it's BW-30181.", "BW-30181", None),
    ("please refund $36 on BW-55120 - make that $63, I misread the receipt", "BW-55120", 63.0),
    ("Rimborso di 20 € per BW-66102, anzi scusate, intendevo BW-66120.", "BW-66120", 20.0),
    ("Bitte storniert BW-42001, nicht BW-42010.", "BW-42001", None),
    ("BW-73310, no wait, BW-73301 - got the digits the wrong way round", "BW-73301", None),
    ("cancel BW-90412 (I mixed up two orders: it's BW-90421)", "BW-90421", None),
    ("Two parcels came, BW-81001 and BW-81002; cancel BW-81002 and keep BW-81001.", "BW-81002", None),
])
def test_the_value_taken_back_is_dropped(text, order, amount):
    found = extract_entities(text)
    assert found["order_ids"] == [order]
    assert found["amount"] == amount


def test_a_corrected_amount_is_the_amount_meant_not_one_to_ask_about_again():
    """It was confirmed first ("just to check: $91?"): the customer had to say it twice."""
    found = extract_entities("refund $19 for BW-12345 sorry I meant $91")
    assert found["amount"] == 91.0 and not found["amount_unsure"]


@pytest.mark.parametrize("text", [
    "Sorry to bother you: please refund $40 for BW-20001 and $25 for BW-20002.",
    "I mean it, BW-20003 arrived broken; refund $30 please.",
])
def test_an_apology_or_an_aside_takes_nothing_back(text):
    found = extract_entities(text)
    assert not found["amount_unsure"]
    assert len(found["order_ids"]) == text.count("BW-")
