"""Personal data to plant in customer messages, shared by the PII tests of every level: random planted values
(cards, phones, SSNs, IBANs, emails) and the table of formats and look-alikes in tests/fixtures/pii_formats.jsonl.
Used by tests/unit/knowledge/test_pii.py (the detector) and tests/system/test_pii.py (nothing reaches storage)."""

from __future__ import annotations

import json
import random

from knowledge.pii import luhn_ok
from tests.helpers import ROOT

TEMPLATES = [
    "Please refund ${amt} for order #{order}. You can reach me at {pii}.",
    "I can't log in, my email is {pii} and I forgot my password",
    "Change the phone on my account, my details: {pii}",
    "Someone charged my card {pii} without permission!",
    "I want to talk to a human. Contact: {pii}",
    "Where is my order #{order}? My SSN is {pii} if you need it",
    "Refund to my bank account {pii} please, order #{order}, amount ${amt}",
    "How do I delete my data? Registered as {pii}",
]


def _card(rng: random.Random) -> str:
    while True:
        digits = "4" + "".join(str(rng.randint(0, 9)) for _ in range(15))
        if luhn_ok(digits):
            return " ".join(digits[i:i + 4] for i in range(0, 16, 4))


def planted(n: int = 210, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    makers = [
        lambda: f"{rng.choice(['ana', 'li.wei', 'j.smith', 'omar_k'])}{rng.randint(1, 999)}@example.com",
        lambda: f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
        lambda: f"(555) {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        lambda: _card(rng),
        lambda: f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
        lambda: "DE89 3704 0044 0532 0130 00" if rng.random() < 0.5 else "GB82 WEST 1234 5698 7654 32",
    ]
    out = []
    for i in range(n):
        secret = makers[i % len(makers)]()
        msg = TEMPLATES[i % len(TEMPLATES)].format(pii=secret, amt=rng.randint(5, 900), order=rng.randint(10000, 99999))
        out.append((msg, secret))
    return out


FORMATS = [json.loads(line) for line in (ROOT / "tests" / "fixtures" / "pii_formats.jsonl").read_text().splitlines()
           if line.strip()]
FORMATS_PII = [row for row in FORMATS if row["kind"]]
LOOKALIKES = [row for row in FORMATS if not row["kind"]]


def case_id(row: dict) -> str:
    """A readable test id: the kind (or "keep" for a look-alike) and the format."""
    return f"{row['kind'] or 'keep'}: {row['format']}"
