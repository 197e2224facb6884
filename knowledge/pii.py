"""Personal-data detection and redaction, applied before text reaches models, stores or logs."""

from __future__ import annotations

import re

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
PHONE = re.compile(r"(?<![\w#-])(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]\d{3}[\s.-]\d{4}\b")
CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b")


def luhn_ok(digits: str) -> bool:
    nums = [int(c) for c in digits if c.isdigit()]
    if not 13 <= len(nums) <= 19:
        return False
    total = 0
    for i, n in enumerate(reversed(nums)):
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def find_pii(text: str) -> dict[str, list[str]]:
    found = {
        "email": EMAIL.findall(text),
        "card": [m for m in CARD.findall(text) if luhn_ok(m)],
        "ssn": SSN.findall(text),
        "iban": IBAN.findall(text),
    }
    found["phone"] = [m for m in PHONE.findall(text) if m not in " ".join(found["card"])]
    return {k: v for k, v in found.items() if v}


def redact(text: str) -> str:
    """Replace personal data with typed placeholders; order matters (cards before phones)."""
    text = EMAIL.sub("[EMAIL]", text)
    text = CARD.sub(lambda m: "[CARD]" if luhn_ok(m.group()) else m.group(), text)
    text = IBAN.sub("[IBAN]", text)
    text = SSN.sub("[SSN]", text)
    return PHONE.sub("[PHONE]", text)
