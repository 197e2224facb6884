"""Required details (slots): what an action needs before policy may decide it, and how a reply fills them.

The taxonomy names each action's slots (`slots:` in app/config/taxonomy.yaml). A request that lacks one is
not decided half-known: the desk asks one short question naming exactly what is missing and keeps the
values it has as a *pending* action in the thread's state, so the next message, even a bare "BW-61616" or
"$80", completes it instead of being classified afresh.

Values come from the rule-based entities of the message itself (never from an LLM alone). A customer who
says they cannot give the amount gets the policy's amount-unknown review; for any other slot, "I don't
know" gets the question again with where to find the detail, and a second failure hands the request to a
person (an escalation, which needs no slots). Everything here is pure: no services, no state writes.
"""

from __future__ import annotations

import re
from typing import Any

from agents.turn import values

PENDING_TURNS = 3  # a pending action not completed within this many turns is dropped
NEED_ORDER = "the order number (like BW-12345)"
NEED_AMOUNT = "the amount (like $80)"
FIELDS = ("email", "phone", "name", "address")

# Which account detail a message names; "email address" is an email, so email is checked before address.
_FIELD = [
    ("email", re.compile(r"\be-?mail\b|\[EMAIL\]", re.I)),
    ("phone", re.compile(r"\b(?:phone|mobile|cell|telephone|tel)\b|\[PHONE\]", re.I)),
    ("name", re.compile(r"\b(?:(?:sur|first |last |full |family |maiden )?name|surname)\b", re.I)),
    ("address", re.compile(r"\b(?:address|postcode|post code|zip(?: code)?)\b", re.I)),
]
_TO_VALUE = re.compile(r"\b(?:to|is now|is|should be|becomes?)\s*:?\s+(?P<v>[^.!?\n]{2,80})", re.I)
_VAGUE = re.compile(r"^(?:a |my |the )?(?:new|different|other|another|updated|correct)\b|^(?:it|one|that|this)\b"
                    r"|^(?:something|anything)\b", re.I)
_PLEASE = re.compile(r"[\s,]*(?:please|pls|plz|thanks|thank you|asap)\W*$", re.I)

DONT_KNOW = re.compile(
    r"\b(?:(?:do|can|could|did)\s*(?:n['’]?t|not)|cannot|can['’]?t|dont|cant)\s+(?:know|remember|recall|find"
    r"|have|got)\b|\bno (?:idea|clue)\b|\bnot (?:sure|certain)\b|\bunsure\b|\bdunno\b|\bforgot(?:ten)?\b"
    r"|\bno receipt\b|\blost (?:the|my)\b", re.I)
_ABOUT_AMOUNT = re.compile(r"\b(?:amount|how much|price|cost|total|paid|sum|money|value)\b", re.I)
_ABOUT_ORDER = re.compile(r"\border\b|\bnumber\b|\breference\b|\bid\b", re.I)
# Affirming and denying, in the languages the desk serves (a confirmation is answered in the customer's words).
YES = re.compile(r"^\W*(?:yes|yep|yeah|yup|correct|right|exactly|confirmed?|that'?s (?:right|correct|it)|sure"
                 r"|ok(?:ay)?|y|oui|ja|s[iíì]|sim|certo|claro|esatto|exacto|exato|genau|klopt|d'accord|va bene"
                 r"|vale|correcto|corretto|richtig|precies|isso|confermo|confirmo|je confirme|bevestig)\b",
                 re.I)
NO = re.compile(r"^\W*(?:no|nope|nah|wrong|incorrect|not quite|non|nein|nee|n[ãa]o)\b", re.I)
WITHDRAW = re.compile(
    r"\b(?:never\s?mind|forget (?:it|that|about it)|cancel (?:that|this|my) request|don['’]?t bother|scratch that"
    r"|changed my mind|no longer (?:need|want)|don['’]?t (?:need|want) (?:it|that|to) ?(?:anymore|any more)?"
    r"|drop it|leave it)\b", re.I)
# Words that carry no request of their own in a reply like "it's order BW-1, $80 I think, thanks".
_FILLER = set("""it its it's is was the order number no nr id for a an of my that this one please pls plz thanks
thank you sure ok okay yes yeah yep here and amount total about around approx approximately roughly usd dollars
dollar euros euro pounds gbp eur i i'm think paid ref reference to be should new email e-mail phone name address
mobile oh sorry right correct so hi hello well um uh on in at with""".split())
_REQUEST_WORDS = {"refund", "cancel", "change", "update", "close", "delete", "return", "where", "how", "why", "what",
                  "when", "track", "help", "human", "agent", "refunded", "cancelled", "canceled"}
_WORD = re.compile(r"[a-z][a-z'’-]*", re.I)


def required(spec: dict) -> list[str]:
    """The slots the taxonomy declares for an intent's spec (`Taxonomy.describe`)."""
    return list(spec.get("slots") or [])


def missing(spec: dict, args: dict) -> list[str]:
    """Required slots with no value and not declared unknown (`args["missing"]`)."""
    declared = set(args.get("missing") or [])
    return [s for s in required(spec) if args.get(s) in (None, "") and s not in declared]


def unfilled(spec: dict, args: dict) -> list[str]:
    """Required slots without a value, whether or not the customer said they cannot give them."""
    return [s for s in required(spec) if args.get(s) in (None, "")]


# ---- reading values from one message ---------------------------------------------------------------------
def field_in(text: str) -> str | None:
    return next((name for name, rx in _FIELD if rx.search(text)), None)


def value_in(text: str, field: str | None, bare: bool) -> str | None:
    """The new value of an account detail: a (redacted) email or phone, the words after "to", or, for a `bare`
    reply to "what should your new name be?", the reply itself."""
    if field in (None, "email") and "[EMAIL]" in text:
        return "[EMAIL]"  # the address itself went to the vault at intake; the ticket says one was given
    if field in (None, "phone") and "[PHONE]" in text:
        return "[PHONE]"
    if field == "phone":
        digits = re.search(r"\+?\d[\d ()-]{6,}\d", text)
        return digits.group().strip() if digits else None
    if field in ("email", "phone"):
        return None
    m = _TO_VALUE.search(text)
    value = m.group("v") if m else (text if bare and field and not field_in(text) else None)
    if value is None:
        return None
    value = _PLEASE.sub("", value).strip(" ,;:'\"")
    return value if value and not _VAGUE.search(value) and len(value.split()) <= 12 else None


def entity_values(entities: dict, text: str) -> dict[str, Any]:
    """Order id and amount from triage's entities, keeping only order ids this message actually wrote
    (triage also carries order ids over from earlier messages, which a reply must not count as an answer)."""
    out: dict[str, Any] = {}
    upper = text.upper()
    orders = [o for o in entities.get("order_ids") or [] if str(o).upper().lstrip("#") in upper]
    if orders:
        out["order_ids"] = orders
    if entities.get("amount") is not None:
        keys = ("amount", "currency")
        out["amount"] = {k: entities[k] for k in keys if entities.get(k) is not None}
        if entities.get("amount_unsure"):
            out["amount_unsure"] = True
    return out


def declared_unknown(text: str, wanted: list[str], reply: bool = False) -> list[str]:
    """The wanted slots the customer says they cannot give ("I don't know the amount"). In a `reply` to our
    question a bare "no idea" covers what was asked; in a request the detail must be named."""
    if not wanted or not DONT_KNOW.search(text):
        return []
    named = [s for s, rx in (("amount", _ABOUT_AMOUNT), ("order_id", _ABOUT_ORDER)) if s in wanted and rx.search(text)]
    return named or (list(wanted) if reply else [])


def terse(text: str) -> bool:
    """A message that is little more than the values it carries: "BW-61616", "$80", "it's order 123 thanks"."""
    words = [w.lower().strip("'’") for w in _WORD.findall(re.sub(r"\[[A-Z]+\]|[A-Z]{0,3}-?\d[\w.,-]*", " ", text))]
    content = [w for w in words if w not in _FILLER]
    return len(content) <= 1 and not (set(content) & _REQUEST_WORDS)


# ---- filling a pending action --------------------------------------------------------------------------
def apply(args: dict, found: dict, text: str, want: list[str], reply: bool = False) -> tuple[dict, list[str]]:
    """Copy the values a message gives into an action's args; (new args, slots it filled). Only a `reply` to
    our question may be a bare value ("Smith"); in a request, a free-text value needs "to …"."""
    args, filled = dict(args), []
    orders = list(found.get("order_ids") or [])
    if "order_id" in want and orders:
        args["order_id"] = orders.pop(0)
        filled.append("order_id")
    amount = found.get("amount")
    if "amount" in want and amount and not found.get("amount_unsure"):
        args.update(amount)
        filled.append("amount")
    if "field" in want or "value" in want:
        field = field_in(text) if "field" in want else args.get("field")
        value = value_in(text, field or args.get("field"), reply) if "value" in want else None
        target = field or args.get("field")
        issue = values.problem(target, value) if value else (
            values.email_problem(text) if "value" in want and target == "email" else None)
        if issue:  # a value that does not fit its type is not used; the question says what was wrong
            value = None
            if reply or target in ("email", "phone"):
                args["rejected"] = issue
        if value and not field:
            field = {"[EMAIL]": "email", "[PHONE]": "phone"}.get(value)
        if field and "field" in want:
            args["field"] = field
            filled.append("field")
        if value and (field or args.get("field")):
            args["value"] = value
            args.pop("rejected", None)
            filled.append("value")
    return args, filled


def candidate_amount(found: dict) -> dict | None:
    """An amount the parser was unsure of ("$1.2k"): proposed back to the customer, not used as is."""
    return found.get("amount") if found.get("amount_unsure") else None


# ---- what the customer is asked --------------------------------------------------------------------------
def _money(a: dict) -> str:
    return f"{a.get('currency') or 'USD'} {float(a['amount']):,.2f}"


def question(action: str, args: dict, gaps: list[str], candidate: dict | None = None, again: bool = False) -> str:
    """One short question naming exactly what is missing."""
    order = f" for order {args['order_id']}" if args.get("order_id") else ""
    if candidate and gaps == ["amount"] and candidate.get("source") == "order":
        return (f"{_money(candidate)} can still be refunded{order}. Should I refund {_money(candidate)}? Please "
                "confirm, or tell me the amount you'd like back.")
    if candidate and gaps == ["amount"]:
        return f"Just to check: should I refund {_money(candidate)}{order}? Please confirm the amount."
    help_order = " You'll find it in your order confirmation email and under Orders in your account." if again else ""
    if action == "cancel_order":
        return f"Which order would you like to cancel? Please give {NEED_ORDER}.{help_order}"
    if action == "refund":
        if gaps == ["order_id"]:
            return f"Which order is this refund for? Please give {NEED_ORDER}.{help_order}"
        if gaps == ["amount"]:
            return (f"How much should we refund{order}? Please give {NEED_AMOUNT}, or tell me if you don't know "
                    "it.")
        return (f"Which order is this refund for, and how much? Please give {NEED_ORDER} and {NEED_AMOUNT}."
                + help_order)
    if action == "account_change":
        if "field" in gaps and "value" in gaps:
            return ("Which detail would you like to change (email, phone number, name or address), and what "
                    "should it be?")
        if "field" in gaps:
            return "Which detail would you like to change: your email, phone number, name or address?"
        label = {"phone": "phone number"}.get(args.get("field"), args.get("field") or "value")
        wrong = f"Sorry, {args['rejected']}. " if args.get("rejected") else ""
        return f"{wrong}What should your new {label} be?"
    if gaps == ["order_id"]:
        return f"Which order is this about? Please give {NEED_ORDER}.{help_order}"
    return "To go ahead I need " + " and ".join(g.replace("_", " ") for g in gaps) + ". Could you give me that?"


def reminder(pending: dict) -> str:
    what = {"refund": "refund", "cancel_order": "cancellation", "account_change": "account change"}
    noun = what.get(pending.get("action"), "request")
    gaps = " and ".join({"order_id": "the order number", "amount": "the amount", "field": "which detail to change",
                         "value": "the new value"}.get(g, g) for g in pending.get("missing") or [])
    return f"Your {noun} is still waiting for {gaps}: just reply with it whenever you're ready."


def withdrawn(pending: list[dict]) -> str:
    what = {"refund": "refund", "cancel_order": "cancellation", "account_change": "account change"}
    noun = what.get(pending[0].get("action"), "request") if pending else "request"
    return f"No problem, I won't go ahead with the {noun}. Is there anything else I can help with?"
