"""Rule-based signals beside intent: entities, urgency, sentiment and risk.

These feed the policy engine, so they are deterministic and never come from an LLM alone.
"""

from __future__ import annotations

import re

from agents.pii import EMAIL, PHONE

_CUR = {"$": "USD", "usd": "USD", "us$": "USD", "dollar": "USD", "dollars": "USD", "bucks": "USD",
        "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "£": "GBP", "gbp": "GBP", "pounds": "GBP"}
_NUM = r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?"
AMOUNT_BEFORE = re.compile(r"(us\$|\$|usd|€|eur|£|gbp)\s?" + _NUM, re.I)
AMOUNT_AFTER = re.compile(_NUM + r"\s?(dollars?|usd|bucks|euros?|eur|€|pounds|gbp)\b", re.I)
ORDER_ID = re.compile(
    r"(?:#\s?([A-Z]{0,3}-?\d{4,}))|(?:\border\s*(?:number|no\.?|id)?\s*[:#]?\s*([A-Z]{0,3}-?\d{4,}))|\b(BW-\d{3,})\b",
    re.I,
)
LEGAL = re.compile(r"\b(lawyer|attorney|solicitor|sue|suing|lawsuit|legal action|court|small claims|legal team)\b", re.I)
FRAUD = re.compile(r"\b(fraud\w*|unauthori[sz]ed|stolen|hacked|scam\w*|didn'?t make (?:this|that) (?:purchase|charge))\b", re.I)
URGENT = re.compile(r"\b(urgent\w*|asap|immediately|right now|emergency|today|as soon as possible)\b", re.I)
NEGATIVE = re.compile(
    r"\b(angry|furious|terrible|awful|horrible|worst|unacceptable|ridiculous|disgusting|useless|scam|"
    r"never again|fed up|disappointed|frustrat\w*|incompetent|pathetic|outrageous|hate)\b", re.I)
POSITIVE = re.compile(r"\b(thanks?|thank you|great|love|appreciate|happy|excellent|wonderful)\b", re.I)


def _money(whole: str, cents: str | None) -> float:
    return float(whole.replace(",", "")) + (float(f"0.{cents}") if cents else 0.0)


def extract_amount(text: str) -> tuple[float | None, str | None]:
    """The largest money amount mentioned (the conservative choice for policy limits)."""
    found: list[tuple[float, str]] = []
    for m in AMOUNT_BEFORE.finditer(text):
        found.append((_money(m.group(2), m.group(3)), _CUR[m.group(1).lower()]))
    for m in AMOUNT_AFTER.finditer(text):
        cur = m.group(3).lower().rstrip("s") if m.group(3).lower() not in _CUR else m.group(3).lower()
        found.append((_money(m.group(1), m.group(2)), _CUR.get(cur, _CUR.get(cur + "s", "USD"))))
    if not found:
        return None, None
    return max(found)


def extract_entities(text: str) -> dict:
    amount, currency = extract_amount(text)
    orders = []
    for m in ORDER_ID.finditer(text):
        oid = next(g for g in m.groups() if g)
        if oid not in orders and not (amount is not None and oid.replace(",", "") == str(int(amount))):
            orders.append(oid.upper())
    return {
        "order_ids": orders,
        "amount": amount,
        "currency": currency,
        "emails": EMAIL.findall(text),
        "phones": PHONE.findall(text),
    }


def sentiment(text: str) -> float:
    """-1 (very negative) .. 1 (positive) from a small lexicon; shouting counts as negative."""
    neg = len(NEGATIVE.findall(text)) + text.count("!!") + (1 if re.search(r"\b[A-Z]{4,}\b.*\b[A-Z]{4,}\b", text) else 0)
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
