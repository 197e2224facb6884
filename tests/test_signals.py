"""Entity extraction and signals on tricky inputs: these values reach the policy engine and tickets."""

from __future__ import annotations

import pytest

from agents.signals import (
    extract_accounts,
    extract_amount,
    extract_emails,
    extract_entities,
    extract_order_ids,
    extract_phones,
    risk_signals,
    sentiment,
    urgency,
)


@pytest.mark.parametrize("text,expected", [
    ("please refund $1,250.50 now", (1250.50, "USD")),
    ("refund EUR 40 please", (40.0, "EUR")),
    ("I paid 40 euros for it", (40.0, "EUR")),
    ("it cost 40€", (40.0, "EUR")),
    ("£120 was taken twice", (120.0, "GBP")),
    ("refund 75 dollars please", (75.0, "USD")),
    ("USD 1,200 charged", (1200.0, "USD")),
    ("US$99.9 and then $15", (99.9, "USD")),
    ("charged $40 and then $900", (900.0, "USD")),  # the largest: conservative for limits
    ("order 55120 arrived broken", (None, None)),  # a bare number is not money
    ("my card ends in 4242", (None, None)),
    ("$1,2500 is not a well-formed amount", (None, None)),
    ("costs $12.345", (None, None)),
])
def test_amounts(text, expected):
    assert extract_amount(text) == expected


def test_all_amounts_listed_with_currency():
    ents = extract_entities("I was charged €40 and 15 pounds")
    assert ents["amounts"] == [{"value": 40.0, "currency": "EUR"}, {"value": 15.0, "currency": "GBP"}]


@pytest.mark.parametrize("text,orders,amount", [
    ("refund $40 for order #48213", ["48213"], 40.0),
    ("order 1250 was $1,250.00", ["1250"], 1250.0),  # same digits, different roles
    ("order number BW-20931 please cancel", ["BW-20931"], None),
    ("cancel #55555 and #55555 again", ["55555"], None),
    ("I want $5000 back", [], 5000.0),  # money is not an order id
    ("order of $5000", [], 5000.0),
    ("call me on #555-201-3344", [], None),  # a phone number is not an order id
])
def test_amounts_versus_order_ids(text, orders, amount):
    ents = extract_entities(text)
    assert ents["order_ids"] == orders and ents["amount"] == amount


@pytest.mark.parametrize("text,expected", [
    ("mail me at anna.k@example.com.", ["anna.k@example.com"]),
    ("reach jo+tag@mail.co.uk or x@y", ["jo+tag@mail.co.uk"]),
    ("bad: anna..k@example.com, a@-example.com, @example.com, anna@example", []),
    ("a@b.c is too short a TLD", []),
])
def test_emails_are_validated(text, expected):
    assert extract_emails(text) == expected


def test_phones_are_validated_and_cards_are_not_phones():
    assert extract_phones("call 555-201-3344 or (555) 201-3345") == ["555-201-3344", "(555) 201-3345"]
    assert extract_phones("card 4111 1111 1111 1111") == []
    assert extract_phones("order 12345") == []


def test_account_numbers_masked_and_iban_checksum():
    assert extract_accounts("my account number is 12345678") == ["****5678"]
    assert extract_accounts("acct #: 0012-3456-789") == ["****6789"]
    assert extract_accounts("IBAN GB82 WEST 1234 5698 7654 32") == ["****5432"]
    assert extract_accounts("IBAN GB82 WEST 1234 5698 7654 33") == []  # checksum fails
    assert extract_accounts("account 123") == []  # too short
    assert extract_accounts("account 4111111111111111") == []  # a card number, not an account


def test_order_ids_respect_precomputed_amounts():
    assert extract_order_ids("#12345 $12345") == ["12345"]


def test_urgency_sentiment_risk():
    text = "This is UNACCEPTABLE and RIDICULOUS, I'm furious, my lawyer will hear about it"
    mood = sentiment(text)
    risks = risk_signals(text, mood)
    assert mood < -0.5 and "legal_threat" in risks and "strong_negative_sentiment" in risks
    assert urgency(text, risks) == "urgent"
    assert urgency("need this today", []) == "high"
    assert urgency("whenever you can", [], "normal") == "normal"
    assert sentiment("thanks, great help") == 1.0
