"""Does a message withdraw the request that waits for a review ("never mind, cancel that request")?

Asked only while a review is pending (app/review/customer_notes.py), so "cancel it" or "forget it" can only mean
that request. A rule, not the intent model: triage reads "never mind, cancel that request" as a new cancellation,
and withdrawing must not depend on a classifier's confidence. A negated or asked form ("don't cancel it", "can I
cancel my request?") is not a withdrawal: it is kept as a note for the reviewer instead.
"""

from __future__ import annotations

import re

_WITHDRAW = re.compile(
    r"""
    \bnever\s*mind\b | \bnvm\b | \bforget\s+(?:about\s+)?(?:it|that|this|the\s+(?:refund|request))\b
    | \bscratch\s+that\b | \bchanged?\s+my\s+mind\b | \bno\s+longer\s+(?:need|want)(?:ed)?\b
    | \b(?:cancel|withdraw|drop|retract|call\s+off|stop)\s+(?:it|that|this|the|my)\b
      (?:\s+(?:refund|request|claim|review|ticket|return|cancellation|change))?(?!\s+(?:order|item|account|subscription))
    | \b(?:don'?t|do\s+not|doesn'?t)\s+(?:need|want)\s+(?:the|my|a|that|this|it)\b.{0,30}?\b(?:anymore|any\s+more)\b
    | \b(?:don'?t|do\s+not)\s+(?:need|want)\s+(?:the|my|a|that|this)\s+(?:refund|request|return|cancellation)\b
    | \blaisse[zr]?\s+tomber\b | \bannule[rz]?\s+(?:ma|la|cette)\s+demande\b | \bvergiss\s+es\b
    | \b(?:ziehe|nehme)\s+(?:meine|die)\s+anfrage\s+zur(?:ü|ue)ck\b | \bolv[ií]d[ae]lo\b
    | \bcancel[ae]r?\s+(?:mi|la|esa)\s+solicitud\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
_NEGATED = re.compile(
    r"\b(?:don'?t|do\s+not|not|never)\s+(?:want\s+to\s+|wish\s+to\s+)?(?:cancel|withdraw|drop|forget)\b", re.IGNORECASE)
_ASKED = re.compile(r"^\s*(?:can|could|may|should|would|how|is\s+it|am\s+i|do\s+i)\b.*\?\s*$",
                    re.IGNORECASE | re.DOTALL)


def withdraws(text: str) -> bool:
    """True when the customer takes back the request that waits for a review."""
    if _NEGATED.search(text) or _ASKED.search(text):
        return False
    return bool(_WITHDRAW.search(text))
