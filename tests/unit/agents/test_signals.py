"""Entity extraction and signals on tricky inputs: these values reach the policy engine and tickets."""

from __future__ import annotations

import pytest

from agents.triage.fraud import evidence
from agents.triage.signals import (
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

RATES = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}
NNBSP, NBSP = "\u202f", "\u00a0"


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


# ---- amounts: value, ISO currency, and whether the reading needed a guess (issue #15 item 6) ---------------------
@pytest.mark.parametrize("text,amount,currency,unsure", [
    # the red-team rows
    ("refund $1.2k please", 1200.0, "USD", False),
    ("refund $9OO please", 900.0, "USD", True),  # letter O for zero: read, but confirmed with the customer
    ("refund $1'200 please", 1200.0, "USD", False),
    (f"refund $1{NNBSP}200 please", 1200.0, "USD", False),
    ("£450 for the headset", 450.0, "GBP", False),
    ("499 GBP back please", 499.0, "GBP", False),
    ("€499 back please", 499.0, "EUR", False),
    ("want my 900$ back", 900.0, "USD", False),
    ("refund nine hundred dollars", 900.0, "USD", False),
    ("Refund CHF 900 please", 900.0, "CHF", False),
    # thousands marks and locale formats
    (f"refund $1{NBSP}200", 1200.0, "USD", False),
    ("refund $1 200", 1200.0, "USD", True),  # an ordinary space: $1 and a stray 200, or $1,200?
    ("1 200,50 € zurück", 1200.5, "EUR", False),  # French writes the space and the symbol after
    ("1.200,50 € bitte", 1200.5, "EUR", False),
    ("€1.200 bitte", 1200.0, "EUR", True),  # 1200 in Germany, 1.2 in Ireland
    ("€1,200 please", 1200.0, "EUR", True),
    ("€40,50 please", 40.5, "EUR", False),
    ("€40.50 please", 40.5, "EUR", False),
    ("CHF 1'250.50", 1250.5, "CHF", False),
    ("1’250 CHF", 1250.0, "CHF", False),
    ("$1,250.50 now", 1250.5, "USD", False),
    ("USD 1,200 charged", 1200.0, "USD", False),
    ("$0.99 app fee", 0.99, "USD", False),
    ("$ 40 please", 40.0, "USD", False),
    # suffixes
    ("$5k refund", 5000.0, "USD", False),
    ("$2.5K refund", 2500.0, "USD", False),
    ("$1.5m", 1500000.0, "USD", False),
    ("$3 thousand", 3000.0, "USD", False),
    ("5k USD", 5000.0, "USD", False),
    ("¥1.5k", 1500.0, "JPY", False),
    # letters for digits
    ("$1OO back", 100.0, "USD", True),
    ("$5o0 back", 500.0, "USD", True),
    ("$40lbs of stuff", 40.0, "USD", True),  # the letters are a word; the digits before them are still unsure
    # words
    ("a hundred bucks", 100.0, "USD", False),
    ("twenty-five euros", 25.0, "EUR", False),
    ("two thousand five hundred dollars", 2500.0, "USD", False),
    ("fifty quid", 50.0, "GBP", False),
    # currencies, codes and symbols
    ("40 euros", 40.0, "EUR", False),
    ("15 pounds", 15.0, "GBP", False),
    ("¥1200", 1200.0, "JPY", False),
    ("JPY 1,200", 1200.0, "JPY", False),
    ("CA$50", 50.0, "CAD", False),
    ("C$50", 50.0, "CAD", True),  # CLDR says Nicaragua; Canada is the likelier guess, and a guess
    ("A$75", 75.0, "AUD", False),
    ("$40 CAD", 40.0, "CAD", False),  # the code after says which dollars
    ("US$99.90", 99.9, "USD", False),
    ("R$ 50", 50.0, "BRL", False),
    ("₹500", 500.0, "INR", False),
    ("500 SEK", 500.0, "SEK", False),
    ("50 zł", 50.0, "PLN", False),
    ("59 Dollar bitte", 59.0, "USD", False),
    ("650 $ pour la commande", 650.0, "USD", False),
    ("200 dólares", 200.0, "USD", False),
    # not money
    ("kr 500", None, None, False),  # shared by SEK, NOK, DKK: no single currency, not guessed
    ("40 ALL of them", None, None, False),  # ALL is a currency code and an English word
    ("order BW-450 dollars", None, None, False),  # part of an identifier
    ("2 grand", None, None, False),  # no currency mark
])
def test_amount_table(text, amount, currency, unsure):
    ents = extract_entities(text)
    assert (ents["amount"], ents["currency"], ents["amount_unsure"]) == (amount, currency, unsure)


def test_unreadable_amounts_are_reported_not_guessed():
    ents = extract_entities("refund $12.345 and $40 for #99999")
    assert ents["amounts_unreadable"] == ["$12.345"] and ents["amount"] == 40.0
    assert ents["amount_unsure"] and "unreadable_amount" in ents["unsure_reasons"]


# ---- currency: USD equivalents from the policy's rates; no rate, no comparison ------------------------------------
def test_amount_usd_from_rates_and_unknown_currency_flagged():
    gbp = extract_entities("£450 for order #48213", RATES)
    assert (gbp["amount"], gbp["currency"], gbp["amount_usd"], gbp["currency_unknown"]) == (450.0, "GBP", 571.5, False)
    sek = extract_entities("500 SEK for order #48213", RATES)
    assert (sek["amount_usd"], sek["currency_unknown"]) == (None, True)
    assert extract_entities("£450")["currency_unknown"]  # without rates only dollars are dollars
    assert extract_entities("$450")["amount_usd"] == 450.0


def test_largest_amount_is_compared_in_usd():
    ents = extract_entities("I paid €480 and $500", RATES)
    assert (ents["amount"], ents["currency"], ents["amount_usd"]) == (480.0, "EUR", 518.4)


# ---- several orders and amounts in one message ---------------------------------------------------------------------
def _pairs(text: str) -> list[tuple]:
    return [(r["order_id"], r["amount"], r["currency"], r["amount_unsure"])
            for r in extract_entities(text, RATES)["requests"]]


@pytest.mark.parametrize("text,pairs", [
    ("$450 for #55120 and $450 for #55121", [("55120", 450.0, "USD", False), ("55121", 450.0, "USD", False)]),
    ("Refund #55120 ($40) and #55121 ($60)", [("55120", 40.0, "USD", False), ("55121", 60.0, "USD", False)]),
    ("$450 for #BW-55120 and £300 for #BW-55121 please",
     [("BW-55120", 450.0, "USD", False), ("BW-55121", 300.0, "GBP", False)]),
    ("Order #5555 cost $900 but I only want $50 back. Also order #6666: $20.",
     [("5555", 900.0, "USD", True), ("6666", 20.0, "USD", False)]),  # two amounts for one order: ask which
    ("cancel #55120 and #55121", [("55120", None, None, False), ("55121", None, None, False)]),
    ("refund $40 please", [(None, 40.0, "USD", False)]),
    ("refund $40 and $40 for order #48213, charged twice", [("48213", 40.0, "USD", False)]),
    ("hello there", []),
])
def test_requests_pair_amounts_with_orders(text, pairs):
    assert _pairs(text) == pairs


def test_compatible_keys_stay():
    ents = extract_entities("$450 for #55120 and $600 for #55121")
    assert ents["order_ids"] == ["55120", "55121"]
    assert (ents["amount"], ents["currency"]) == (600.0, "USD")  # the largest: conservative for one action
    assert ents["amounts"] == [{"value": 450.0, "currency": "USD"}, {"value": 600.0, "currency": "USD"}]
    assert [r["amount_usd"] for r in ents["requests"]] == [450.0, 600.0]


# ---- fraud wording (issue #15 item 7) -----------------------------------------------------------------------------
FRAUD_WORDINGS = [
    "Someone used my card to buy a $300 gift card on your site, I need that refunded",
    "It wasn't me who placed this order",
    "that was not me, please refund",
    "there's an order BW-88002 for $89 i never placed. wasnt me. refund it now",
    "I didn't authorise this payment",
    "I did not authorize this transaction on my account",
    "My account was hacked and they ordered a laptop",
    "I think I've been hacked",
    "someone got into my account and changed the address",
    "Somebody logged into my account from another country",
    "I don't recognise this charge",
    "I do not recognize these transactions on my statement",
    "There's a charge I don't recognize from BrightWave",
    "my card was stolen last week and now there are orders",
    "My credit card has been stolen",
    "This is fraudulent, refund me",
    "I never made this purchase",
    "I didn't place this order, refund it",
    "somebody has been using my PayPal on your site",
    "my account has been compromised",
    "unknown purchases on my card",
    "I see suspicious activity on my account",
    "a stranger bought stuff with my credit card",
    "someone else ordered this using my details",
    "I've been scammed",
    "identity theft - someone opened an account in my name",
    "hackers took over my account",
    "There's a charge on my card from you that I didn't make. Is this fraud?",
    "how do I report fraud?",  # a question about fraud: a person answers it, the safe side
    "I never bought anything from you",
    "C'est une fraude, je n'ai jamais commandé ça",
    "Ce n'est pas moi qui ai passé cette commande",
    "Je n'ai pas autorisé ce paiement",
    "mon compte a été piraté",
    "on m'a volé ma carte bancaire",
    "Je ne reconnais pas ce prélèvement",
    "Das ist Betrug!",
    "Das war nicht ich, bitte erstatten",
    "Ich war das nicht",
    "Meine Kreditkarte wurde gestohlen",
    "Ich erkenne diese Abbuchung nicht",
    "Jemand hat meine Karte benutzt",
    "no fui yo, alguien usó mi tarjeta",
    "Es un fraude",
    "me robaron la tarjeta",
    "No reconozco este cargo",
    "No autoricé esta compra",
    "These charges aren't mine, I never ordered BW-40404. Please refund the $60.",
    "this charge isn't mine",
    "the two payments on my statement are not mine",
    "I never ordered BW-40404",
    "I didn't place order #55120, refund it",
]
NOT_FRAUD = [
    "I was charged twice for the same order",
    "I don't recognise the tracking number you sent",
    "I didn't receive my order",
    "my card was declined at checkout",
    "my card expired, how do I update it?",
    "I used my card to buy a gift card",
    "It wasn't delivered on time",
    "I didn't get the confirmation email",
    "My account is locked",
    "I can't log into my account",
    "my package was stolen from the porch",
    "The charge is higher than expected",
    "I don't understand this charge",
    "Can I pay with someone else's card?",
    "I got a new card, please update my payment details",
    "someone from your team called me yesterday",
    "I didn't mean to order two of them",
    "refund the duplicate charge please",
    "is there a hack to speed up shipping?",
    "This is not what I ordered",
    "I never received the refund",
    "my account was charged twice",
    "someone bought me a gift card, can I return it?",
    "my wife placed the order for me",
    "I don't recognise the sender of this email",
    "I didn't order the blue one, I ordered red",
    "Was my payment authorised?",
    "Où est ma commande ?",
    "Je ne reconnais pas le numéro de suivi",
    "Warum wurde mir zweimal abgebucht?",
    "No recibí mi pedido",
    "The unknown error keeps appearing in the app",
    "I didn't order 2 of these",
    "these shoes aren't mine, I think the parcel was swapped",
    "I didn't receive order BW-40404",
    "I never ordered from BW-40404's seller before, is it reliable?",
]


@pytest.mark.parametrize("text", FRAUD_WORDINGS)
def test_fraud_wordings_mark_fraud(text):
    assert "fraud" in risk_signals(text, 0.0)


@pytest.mark.parametrize("text", NOT_FRAUD)
def test_fraud_look_alikes_do_not(text):
    assert "fraud" not in risk_signals(text, 0.0)


def test_unrecognised_charge_is_the_weakest_evidence():
    """Triage may answer a question that only says "I don't recognise this charge" (often a renewal); a refund
    with it still goes to the fraud analyst, since the policy looks at the risk, not at the family."""
    assert evidence("theres a $79 charge on my card i dont recognise") == ["unrecognised"]
    assert evidence("Someone used my card, it wasn't me") == ["someone_else", "not_me"]


def test_legal_threats_kept():
    assert "legal_threat" in risk_signals("my lawyer will hear about this", 0.0)
    assert "legal_threat" in risk_signals("Je vais contacter mon avocat", 0.0)
    assert "legal_threat" in risk_signals("Ich gehe zum Anwalt", 0.0)
