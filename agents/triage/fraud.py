"""How customers say a charge or an account was not theirs, in English, French, German and Spanish.

A refund on a stolen card refunds the thief's purchase, so the fraud signal sends any refund to a fraud analyst
(policy rule refund-fraud-signal). Customers rarely write "fraud": they write "someone used my card", "wasn't me",
"I don't recognise this charge". The patterns below are families of such wordings, each tied to what makes it
fraud (an unknown person *and* the customer's card or account; a denial *and* a charge or order), so look-alikes
such as "I was charged twice", "my package was stolen" or "I don't recognise the tracking number" stay out.
A question about fraud ("how do I report fraud?") is still marked: a person answers it, which is the safe side.

Every gap is bounded ({0,40}), so a long message costs linear time.
"""

from __future__ import annotations

import re

_MINE = (r"(?:my|mine|our)\s+(?:\w+\s+){0,2}?(?:card|account|details|identity|login|password|credentials|paypal"
         r"|wallet|bank|info|information|data|e-?mail|profile|number)s?\b")
_SOMEONE = (r"\b(?:some(?:one|body)(?: else)?|a stranger|strangers|an? (?:unknown )?(?:person|third party)|hackers?"
            r"|a hacker|thie(?:f|ves)|criminals?|scammers?)\b")
_USED = (r"\b(?:used|using|uses|use|got into|get into|gotten into|accessed|access|logged (?:in|into|on)|broke into"
         r"|took over|taken over|bought|made|placed|ordered|charged|stole|has access|had access|hacked|spent|opened"
         r"|changed|signed in|signing in)\b")
_THING = r"(?:charge|transaction|payment|purchase|order|debit|withdrawal|login|log-in|sign-in|activity|subscription)s?"
_THIS = r"(?:this|that|these|those|the|any|some|a|an|it|them)"
_NEG = r"(?:did ?n['’]?t|did not|never|haven['’]?t|have not)"

_VERBS_DONE = r"(?:make|made|place|placed|do|did|authori[sz]e|authori[sz]ed)"

# Families of wordings; `evidence` names the ones a message uses.
FAMILIES: dict[str, list[str]] = {
    "named": [  # the customer names it: fraud, scam, unauthorised, hacked (and FR/DE/ES)
        r"\bfraud\w*", r"\bscam\w*", r"\bidentity theft\b", r"\bstolen identity\b", r"\baccount take-?over\b",
        r"\bunauthori[sz]ed\b", r"\bhacked\b", r"\bcloned card\b", r"\bnon[- ]autoris[ée]e?s?\b",
        r"\bpirat[ée]e?s?\b", r"\busurpation d['’]identit[ée]\b", r"\barnaque\w*", r"\bbetr[üu]g\w*",
        r"\bnicht autorisiert\w*", r"\bunbefugt\w*", r"\bgehackt\b", r"\bidentit[äa]tsdiebstahl\b",
        r"\bno autorizad[oa]s?\b", r"\bhackead[oa]s?\b", r"\brobo de identidad\b", r"\bestafa\w*",
    ],
    "someone_else": [  # someone used my card, got into my account
        rf"{_SOMEONE}[^.!?\n]{{0,40}}?{_USED}[^.!?\n]{{0,40}}?{_MINE}",
        rf"{_SOMEONE}\s+(?:has\s+|had\s+)?(?:got|gotten|gained|has|had|broke)\s+(?:into|access)",
        r"\bquelqu['’]un a (?:utilis[ée]|pirat[ée]|acc[ée]d[ée])", r"\bjemand hat (?:meine|mein|meinen)\b",
        r"\balguien (?:us[óo]|ha usado|entr[óo]|accedi[óo]|ha entrado|ha accedido)\b",
    ],
    "stolen": [  # my card was stolen, my account was compromised
        rf"{_MINE}\s+(?:\w+\s+){{0,2}}?(?:was|were|has been|have been|got|is|are|gets)\s+(?:\w+\s+)?"
        r"(?:stolen|hacked|compromised|cloned|skimmed|breached|taken over|hijacked)\b",
        rf"\bstole\s+{_MINE}", r"\bstolen\s+(?:credit |debit |bank )?(?:card|identity|details|credentials)\b",
        r"\b(?:carte|compte)\s+(?:\w+\s+)?vol[ée]e?\b", r"\bon m['’]a vol[ée]\b",
        r"\b(?:karte|kreditkarte|konto)\s+(?:\w+\s+)?(?:wurde|ist)\s+(?:\w+\s+)?gestohlen\b",
        r"\bme (?:robaron|han robado|robó)\b", r"\btarjeta robada\b",
    ],
    "not_me": [  # it wasn't me, I didn't authorise this, I never placed this order
        r"\b(?:wasn['’]?t|was not|weren['’]?t|were not)\s+me\b", r"\bnot (?:made |done )?by me\b",
        rf"\bi\s+{_NEG}\s+(?:authori[sz]e|approve|allow|give permission for)\b",
        rf"\bi\s+{_NEG}\s+(?:make|made|place|placed|do|did|buy|bought|purchase|purchased|order|ordered|request"
        rf"|sign up for)\s+{_THIS}\s+(?:\w+\s+){{0,2}}?{_THING}",
        rf"\bi\s+{_NEG}\s+(?:buy|bought|purchase|purchased|order|ordered)\s+anything\b",
        # "I never ordered BW-40404", "I didn't place order #55120": a denial naming the order by its id
        rf"\bi\s+{_NEG}\s+(?:make|made|place|placed|buy|bought|purchase|purchased|order|ordered)\s+"
        r"(?:(?:the|this|that)\s+)?(?:order\s+)?(?:#\s?\d{3,}|[a-z]{1,4}-\d{3,})",
        rf"\b{_THING}\b[^.!?\n]{{0,30}}?\b(?:is|are|was|were)(?:\s+not|n['’]?t)\s+(?:mine|ours)\b",  # "aren't mine"
        rf"\b{_THING}\b[^.!?\n]{{0,40}}?\b(?:that|which)?\s*i\s+{_NEG}\s+{_VERBS_DONE}\b",
        r"\bpas moi\b", r"\bce n['’]?(?:é|e)tait pas moi\b",
        r"\bje n['’]?ai (?:pas|jamais) (?:autoris[ée]|fait|pass[ée]|effectu[ée]|command[ée])\b",
        r"\bnicht ich\b", r"\bich war (?:das|es) nicht\b", r"\bnicht von mir\b",
        r"\bno (?:fui|he sido|era) yo\b", r"\bno autoric[ée]\b",
    ],
    "unrecognised": [  # I don't recognise this charge: often a renewal, still a fraud signal for a refund
        rf"\b(?:don['’]?t|do not|didn['’]?t|can['’]?t|cannot|doesn['’]?t) recogni[sz]e\s+(?:{_THIS}\s+)?"
        rf"(?:\w+\s+){{0,2}}?{_THING}",
        rf"\b{_THING}\b[^.!?\n]{{0,40}}?\b(?:that|which)?\s*i\s+(?:don['’]?t|do not|{_NEG})\s+recogni[sz]e",
        rf"\b(?:unrecogni[sz]ed|unknown|strange|suspicious|unfamiliar)\s+(?:\w+\s+)?{_THING}",
        r"\bje ne reconnais pas (?:ce|cette|ces|le|la|les) (?:d[ée]bit|paiement|achat|transaction"
        r"|pr[ée]l[èe]vement|commande|op[ée]ration)s?\b",
        r"\berkenne\s+(?:diese|die|den|das)\s+(?:\w+\s+)?(?:abbuchung|zahlung|transaktion|belastung"
        r"|bestellung|lastschrift|kauf)\w*\s+nicht\b",
        r"\bno reconozco (?:este|esta|estos|estas|el|la|los|las) (?:cargo|compra|pago|transacci[óo]n|cobro"
        r"|pedido|movimiento)\w*",
    ],
}

def _compile(patterns: list[str]) -> re.Pattern[str]:
    # Every wording starts a word: testing that once, before the branches, keeps the scan cheap per character.
    return re.compile(r"\b(?=[^\W\d_])(?:" + "|".join(patterns) + ")", re.I)


_FAMILY = {name: _compile(patterns) for name, patterns in FAMILIES.items()}
FRAUD = _compile([p for patterns in FAMILIES.values() for p in patterns])


def mentions_fraud(text: str) -> bool:
    return bool(FRAUD.search(text))


def evidence(text: str) -> list[str]:
    """The families of fraud wording in `text`. Only "unrecognised" ("a $79 charge I don't recognise") is the
    weakest: for a question it is usually a renewal to explain, for a refund it is still fraud."""
    return [name for name, rx in _FAMILY.items() if rx.search(text)]
