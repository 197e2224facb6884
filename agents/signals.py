"""Rule-based signals beside intent: entities, urgency, sentiment and risk.

These feed the policy engine and tickets, so they are deterministic, validated (a malformed
email or an impossible phone number is not an entity) and never come from an LLM alone.
"""

from __future__ import annotations

import re

from knowledge.pii import CARD, IBAN, PHONE, luhn_ok

_CUR = {"$": "USD", "us$": "USD", "usd": "USD", "dollar": "USD", "dollars": "USD", "bucks": "USD",
        "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR",
        "£": "GBP", "gbp": "GBP", "pound": "GBP", "pounds": "GBP", "quid": "GBP"}
# Thousands separators must group by three ("1,250.50"); a bare number may carry cents.
_NUM = r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(?![\d,]*\d|\.\d)"
AMOUNT_BEFORE = re.compile(r"(?<![\w$€£])(us\$|\$|usd|€|eur|£|gbp)\s?" + _NUM, re.I)
AMOUNT_AFTER = re.compile(
    r"(?<![\w.,#-])" + _NUM + r"\s?(dollars?|usd|bucks|euros?|eur|€|pounds?|quid|gbp)(?!\w)", re.I
)
ORDER_ID = re.compile(
    r"(?:#\s?([A-Z]{0,3}-?\d{4,}))|(?:\border\s*(?:number|no\.?|id)?\s*[:#]?\s*([A-Z]{0,3}-?\d{4,}))|\b(BW-\d{3,})\b",
    re.I,
)
ACCOUNT = re.compile(
    r"\b(?:account|acct|a/c)\.?\s*(?:number|no\.?|num|#)?\s*(?:is\s+)?[:#]?\s*(\d(?:[ -]?\d){5,16})\b", re.I
)
EMAIL_LIKE = re.compile(r"[^\s<>(),;:\"']+@[^\s<>(),;:\"']+")
_EMAIL_OK = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
)
LEGAL = re.compile(
    r"\b(lawyer|attorney|solicitor|sue|suing|lawsuit|legal action|court|small claims|legal team)\b", re.I
)
FRAUD = re.compile(
    r"\b(fraud\w*|unauthori[sz]ed|stolen|hacked|scam\w*|didn'?t make (?:this|that) (?:purchase|charge))\b", re.I
)
URGENT = re.compile(r"\b(urgent\w*|asap|immediately|right now|emergency|today|as soon as possible)\b", re.I)
NEGATIVE = re.compile(
    r"\b(angry|furious|terrible|awful|horrible|worst|unacceptable|ridiculous|disgusting|useless|scam|"
    r"never again|fed up|disappointed|frustrat\w*|incompetent|pathetic|outrageous|hate)\b", re.I)
POSITIVE = re.compile(r"\b(thanks?|thank you|great|love|appreciate|happy|excellent|wonderful)\b", re.I)


def _money(whole: str, cents: str | None) -> float:
    return round(float(whole.replace(",", "")) + (float(f"0.{cents}") if cents else 0.0), 2)


def extract_amounts(text: str) -> list[tuple[float, str, tuple[int, int]]]:
    """Every money amount with its ISO currency and span; a number needs a currency mark to count."""
    found = [(_money(m.group(2), m.group(3)), _CUR[m.group(1).lower()], m.span()) for m in AMOUNT_BEFORE.finditer(text)]
    taken = [s for *_, s in found]
    for m in AMOUNT_AFTER.finditer(text):
        if not any(a < m.end() and m.start() < b for a, b in taken):
            found.append((_money(m.group(1), m.group(2)), _CUR[m.group(3).lower()], m.span()))
    return sorted(found, key=lambda f: f[2])


def extract_amount(text: str) -> tuple[float | None, str | None]:
    """The largest money amount mentioned (the conservative choice for policy limits)."""
    found = extract_amounts(text)
    if not found:
        return None, None
    value, currency, _ = max(found, key=lambda f: f[0])
    return value, currency


def valid_email(candidate: str) -> bool:
    local = candidate.rsplit("@", 1)[0]
    return bool(_EMAIL_OK.fullmatch(candidate)) and len(local) <= 64 and len(candidate) <= 254


def extract_emails(text: str) -> list[str]:
    """Addresses that pass a syntax check; trailing sentence punctuation is not part of an address."""
    out = []
    for m in EMAIL_LIKE.finditer(text):
        cand = m.group().rstrip(".!?")
        if valid_email(cand) and cand not in out:
            out.append(cand)
    return out


def extract_phones(text: str) -> list[str]:
    """Phone-shaped numbers with 10-15 digits (E.164) that are not card numbers."""
    cards = [m.span() for m in CARD.finditer(text) if luhn_ok(m.group())]
    out = []
    for m in PHONE.finditer(text):
        digits = sum(c.isdigit() for c in m.group())
        if 10 <= digits <= 15 and not any(a <= m.start() < b for a, b in cards) and m.group() not in out:
            out.append(m.group())
    return out


def _iban_ok(iban: str) -> bool:
    s = iban.replace(" ", "").upper()
    if not 15 <= len(s) <= 34:
        return False
    rotated = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in rotated)) % 97 == 1


def extract_accounts(text: str) -> list[str]:
    """Account numbers (6-17 digits after 'account number') and IBANs with a valid checksum, masked to the
    last four characters: tickets need to tell accounts apart, not to hold the number."""
    out = []
    for m in ACCOUNT.finditer(text):
        digits = re.sub(r"\D", "", m.group(1))
        if 6 <= len(digits) <= 17 and not luhn_ok(digits):  # a card number is not an account number
            out.append("****" + digits[-4:])
    out += ["****" + m.group().replace(" ", "")[-4:] for m in IBAN.finditer(text) if _iban_ok(m.group())]
    return list(dict.fromkeys(out))


def extract_order_ids(text: str, amounts: list | None = None) -> list[str]:
    """Order ids; a number that is part of a money amount or a phone number is not an order id."""
    blocked = [s for *_, s in (amounts if amounts is not None else extract_amounts(text))]
    blocked += [m.span() for m in PHONE.finditer(text)]
    orders: list[str] = []
    for m in ORDER_ID.finditer(text):
        idx = next(i for i, g in enumerate(m.groups(), 1) if g)
        start = m.start(idx)
        if any(a <= start < b for a, b in blocked):
            continue
        oid = m.group(idx).upper()
        if oid not in orders:
            orders.append(oid)
    return orders


def extract_entities(text: str) -> dict:
    amounts = extract_amounts(text)
    amount, currency = extract_amount(text)
    return {
        "order_ids": extract_order_ids(text, amounts),
        "amount": amount,
        "currency": currency,
        "amounts": [{"value": v, "currency": c} for v, c, _ in amounts],
        "emails": extract_emails(text),
        "phones": extract_phones(text),
        "accounts": extract_accounts(text),
    }


def sentiment(text: str) -> float:
    """-1 (very negative) .. 1 (positive) from a small lexicon; shouting counts as negative."""
    shouting = 1 if re.search(r"\b[A-Z]{4,}\b.*\b[A-Z]{4,}\b", text) else 0
    neg = len(NEGATIVE.findall(text)) + text.count("!!") + shouting
    pos = len(POSITIVE.findall(text))
    if neg + pos == 0:
        return 0.0
    return round((pos - neg) / (pos + neg), 2)


def risk_signals(text: str, mood: float) -> list[str]:
    risks = []
    if LEGAL.search(text):
        risks.append("legal_threat")
    if FRAUD.search(text):
        risks.append("fraud")
    if mood <= -0.5 and len(NEGATIVE.findall(text)) >= 2:
        risks.append("strong_negative_sentiment")
    return risks


def urgency(text: str, risks: list[str], base: str | None = None) -> str:
    if "legal_threat" in risks or "fraud" in risks:
        return "urgent"
    if URGENT.search(text) or "strong_negative_sentiment" in risks:
        return "high"
    return base or "normal"
