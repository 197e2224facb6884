"""Rule-based signals beside intent: entities, urgency, sentiment and risk.

These feed the policy engine and tickets, so they are deterministic, validated (a malformed
email or an impossible phone number is not an entity) and never come from an LLM alone.
"""

from __future__ import annotations

import re

from agents.compliance.money import Money, scan, to_base
from agents.triage.fraud import mentions_fraud
from agents.turn.correction import retracted
from knowledge.pii import CARD, IBAN, PHONE, luhn_ok

ORDER_ID = re.compile(
    r"(?:#\s?([A-Z]{0,3}-?\d{4,}))|(?:\border\s*(?:number|no\.?|id)?\s*[:#]?\s*([A-Z]{0,3}-?\d{3,}))|\b(BW-\d{3,})\b",
    re.I,
)
ACCOUNT = re.compile(
    r"\b(?:account|acct|a/c)\.?\s*(?:number|no\.?|num|#)?\s*(?:is\s+)?[:#]?\s*(\d(?:[ -]?\d){5,16})\b", re.I
)
# Candidates start where a token starts (the lookbehind), so a long run without "@" is read once, not once per
# character.
EMAIL_LIKE = re.compile(r"(?<![^\s<>(),;:\"'])[^\s<>(),;:\"'@]++@[^\s<>(),;:\"']++")
_EMAIL_OK = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
)
LEGAL = re.compile(
    r"\b(lawyer|attorney|solicitor|sue|suing|lawsuit|legal action|court|small claims|legal team"
    r"|avocat|tribunal|poursuivre en justice|anwalt|rechtsanwalt|verklagen|abogado|demandar[éeá]?)\b", re.I
)
URGENT = re.compile(r"\b(urgent\w*|asap|immediately|right now|emergency|today|as soon as possible)\b", re.I)
NEGATIVE = re.compile(
    r"\b(angry|furious|terrible|awful|horrible|worst|unacceptable|ridiculous|disgusting|useless|scam|"
    r"never again|fed up|disappointed|frustrat\w*|incompetent|pathetic|outrageous|hate)\b", re.I)
POSITIVE = re.compile(r"\b(thanks?|thank you|great|love|appreciate|happy|excellent|wonderful)\b", re.I)

UNREADABLE = "unreadable_amount"  # another money mention in the message could not be read
SEVERAL = "several_amounts"  # one order, several different amounts: which one is meant?


def extract_amounts(text: str) -> list[tuple[float, str, tuple[int, int]]]:
    """Every money amount with its ISO currency and span; a number needs a currency mark to count."""
    return [(m.value, m.currency, m.span) for m in scan(text).amounts]


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


def _order_mentions(text: str, blocked: list[tuple[int, int]]) -> list[tuple[str, int, int]]:
    """(order id, start, end) of every mention, in order; numbers inside money or phone numbers are not ids."""
    blocked = blocked + [m.span() for m in PHONE.finditer(text)]
    out = []
    for m in ORDER_ID.finditer(text):
        idx = next(i for i, g in enumerate(m.groups(), 1) if g)
        if not any(a <= m.start(idx) < b for a, b in blocked):
            out.append((m.group(idx).upper(), m.start(), m.end()))
    return out


def extract_order_ids(text: str, amounts: list | None = None) -> list[str]:
    """Order ids; a number that is part of a money amount or a phone number is not an order id."""
    blocked = [s for *_, s in (amounts if amounts is not None else extract_amounts(text))]
    return list(dict.fromkeys(oid for oid, *_ in _order_mentions(text, blocked)))


def _usd_key(m: Money, rates: dict | None) -> tuple[float, float]:
    """Order amounts for "the largest": an amount without a rate counts as largest, so it is the one judged."""
    usd = to_base(m.value, m.currency, rates)
    return (float("inf") if usd is None else usd), m.value


def _request_key(r: dict) -> tuple[float, float]:
    return (float("inf") if r["amount_usd"] is None else r["amount_usd"]), r["amount"]


def _nearest(text: str, m: Money, orders: list[tuple[str, int, int]]) -> str:
    """The order mentioned closest to an amount, preferring one in the same sentence; on a tie the one after
    ("$450 for #55120")."""
    def cost(order: tuple[str, int, int]) -> tuple[int, int, int]:
        _, a, b = order
        lo, hi = (b, m.start) if b <= m.start else (m.end, a)
        gap = max(0, hi - lo)
        return int(bool(re.search(r"[.!?;\n]", text[lo:hi]))), gap, int(b <= m.start)
    return min(orders, key=cost)[0]


def _request(order_id: str | None, group: list[Money], rates: dict | None, extra: tuple[str, ...] = ()) -> dict:
    if not group:
        return {"order_id": order_id, "amount": None, "currency": None, "amount_usd": None,
                "amount_unsure": False, "unsure_reasons": [], "currency_unknown": False}
    best = max(group, key=lambda m: _usd_key(m, rates))
    reasons = list(best.unsure) + list(extra)
    if len({(m.value, m.currency) for m in group}) > 1:
        reasons.append(SEVERAL)
    usd = to_base(best.value, best.currency, rates)
    usd = None if usd is None else round(usd, 2)
    return {"order_id": order_id, "amount": best.value, "currency": best.currency, "amount_usd": usd,
            "amount_unsure": bool(reasons), "unsure_reasons": list(dict.fromkeys(reasons)),
            "currency_unknown": usd is None}


def pair_requests(text: str, amounts: list[Money], orders: list[tuple[str, int, int]], rates: dict | None = None,
                  extra: tuple[str, ...] = ()) -> list[dict]:
    """One request per order the message names, each with the amount meant for it: with as many amounts as
    orders, the k-th amount goes with the k-th order ("$450 for #55120 and $450 for #55121"); otherwise each
    amount goes with its nearest order. Without an order id, one request carries the largest amount."""
    ids = list(dict.fromkeys(oid for oid, *_ in orders))
    groups: dict[str | None, list[Money]] = {oid: [] for oid in ids} or {None: []}
    if len(ids) <= 1:
        groups[ids[0] if ids else None] = list(amounts)
    elif len(amounts) == len(ids) == len(orders):
        for m, oid in zip(amounts, ids, strict=True):
            groups[oid].append(m)
    else:
        for m in amounts:
            groups[_nearest(text, m, orders)].append(m)
    return [_request(oid, group, rates, extra) for oid, group in groups.items() if oid or group]


# A bound, not a quantity: "refunds under $10,000 are approved", "anything above €500". An amount the customer
# asks for is never introduced by a comparative, so a limit quoted from policy-sounding text never becomes it.
BOUND = re.compile(r"(?:\b(?:under|below|over|above|up\s+to|less\s+than|more\s+than|at\s+(?:most|least)"
                   r"|exceed(?:s|ing)?|limit(?:\s+of)?|max(?:imum)?|min(?:imum)?|threshold(?:\s+of)?|cap(?:ped)?(?:\s+at)?|within)"
                   r"|[<>≤≥])\s*(?:of\s+|is\s+|at\s+)?\W{0,2}\Z", re.I)


def bounds(text: str, amounts: list[Money]) -> list[Money]:
    """The amounts that are stated as a bound (a comparative right before them), when another amount is not."""
    marked = [a for a in amounts if BOUND.search(text[max(0, a.start - 24):a.start])]
    return marked if len(marked) < len(amounts) else []


def extract_entities(text: str, rates: dict[str, float] | None = None) -> dict:
    """Entities for policy and tickets. `rates` (units of USD per unit of a currency, the policy's
    `currency_rates`) gives `amount_usd`; an amount in a currency without a rate has `currency_unknown` and no
    `amount_usd`, so it is never compared with a dollar limit. `amount` is the largest amount (in USD where
    known; one without a rate counts as largest) with its request's flags, the conservative choice when one
    action stands for the message; `requests` pairs amounts with orders for one action per order."""
    found = scan(text)
    if limits := bounds(text, found.amounts):
        found = type(found)([a for a in found.amounts if a not in limits], found.unreadable)
    mentions = _order_mentions(text, [m.span for m in found.amounts])
    taken_back = retracted(text, [m.span for m in found.amounts]), retracted(text, [(s, e) for _, s, e in mentions])
    if any(taken_back):  # "refund $45 … sorry, I meant $54", "BW-1, not BW-2": the value meant is the one kept
        found = type(found)([a for i, a in enumerate(found.amounts) if i not in taken_back[0]], found.unreadable)
        gone = {mentions[i][0] for i in taken_back[1]}  # an order taken back once is taken back wherever named
        mentions = [m for m in mentions if m[0] not in gone] or mentions
    extra = (UNREADABLE,) if found.unreadable else ()
    requests = pair_requests(text, found.amounts, mentions, rates, extra)
    priced = [r for r in requests if r["amount"] is not None]
    top = max(priced, key=_request_key) if priced else _request(None, [], rates)
    return {
        "order_ids": list(dict.fromkeys(oid for oid, *_ in mentions)),
        "amount": top["amount"],
        "currency": top["currency"],
        "amount_usd": top["amount_usd"],
        "amount_unsure": top["amount_unsure"],
        "unsure_reasons": top["unsure_reasons"],
        "currency_unknown": top["currency_unknown"],
        "amounts": [{"value": m.value, "currency": m.currency} for m in found.amounts],
        "amounts_unreadable": found.unreadable,
        "requests": requests,
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
    if mentions_fraud(text):
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
