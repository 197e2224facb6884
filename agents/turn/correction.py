"""Corrections as a dialogue act: the value a customer takes back is not the value they asked for.

"cancel BW-40871 – sorry, wrong number, it's BW-40817" names two orders; the second replaces the first. "the order
is BW-26631, not 26613" and "cancel BW-1 only and keep BW-2" name one the customer does not want acted on. The act
is recognised by its cue (a repair marker: "I meant", "wrong number", "je me suis trompée", "intendevo", "ich
meinte", "quise decir", …; or a negation right before a value) and applied to the values of the same kind: an
order id retracted by a later order id, an amount by a later amount. A bare "sorry" is not a cue ("sorry to
bother you, refund $40 for BW-1 and $20 for BW-2" is two requests).

The corrected value is then acted on as if it had been the only one, as a person at the desk would: asking "just
to check, $45?" after "sorry, I meant $45" made customers say it twice (the policy still checks the amount). A
correction in a later message ("$38. oh and typo, the order is BW-38820 not BW-38802") replaces the value an
earlier message gave (agents/turn/understand.py).
"""

from __future__ import annotations

import re

REPAIR = re.compile(
    r"\b(?:i\s+meant|i\s+mean\b|meant\s+to\s+(?:say|write|type)|typo|mis-?typed|wrong\s+(?:number|order|amount|one|id"
    r"|order\s+number)|scratch\s+that|correction\b|make\s+that|sorry,?\s+(?:it'?s|it\s+is)"
    r"|no,?\s+wait|wait,?\s+no\b|mixed\s+up|mix-?up|got\s+the\s+(?:number|digits|amount)\s+wrong"
    r"|je\s+me\s+suis\s+tromp|je\s+voulais\s+dire|mauvais\s+num[ée]ro|erreur\s+de\s+num[ée]ro|plut[ôo]t"
    r"|intendevo|volevo\s+dire|mi\s+sono\s+sbagliat|ho\s+sbagliato|numero\s+sbagliato"
    r"|quise\s+decir|quer[ií]a\s+decir|me\s+equivoqu|n[úu]mero\s+equivocado|mejor\s+dicho"
    r"|ich\s+meinte|vertippt|falsche\s+(?:nummer|bestellnummer|bestellung)|korrektur"
    r"|ik\s+bedoel|verkeerde\s+(?:nummer|bestelling|bedrag)|vergist"
    r"|quis\s+dizer|me\s+enganei|enganei-me|n[úu]mero\s+errado|errei)",
    re.I)
# A negation or "keep" right before a value: "not 26613", "keep BW-2", "nicht BW-1", "pas la commande BW-1".
NEGATED = re.compile(
    r"\b(?:not|nicht|pas|non|niet|n[ãa]o|keep|behalten|garder|gardez|tenere|mantener|manter|behouden|except|apart\s+from)"
    r"\s+(?:(?:the|la|le|l'|die|den|das|de|het|il|el|o|a)\s+)?(?:(?:order|bestellung|commande|ordine|pedido|bestelling"
    r"|encomenda)\s+)?(?:(?:no\.?|nr\.?|n°|number|#)\s*)?\W{0,2}\Z", re.I)

Span = tuple[int, int]


def retracted(text: str, values: list[Span]) -> set[int]:
    """Indexes of the values (spans, in order, of one kind) the customer took back: those before a repair cue that
    a later value of the same kind follows, and those right after a negation. At least one value always stays."""
    out = {i for i, (start, _) in enumerate(values) if NEGATED.search(text[max(0, start - 40):start])}
    for cue in REPAIR.finditer(text):
        if any(start >= cue.end() for start, _ in values):
            out |= {i for i, (_, end) in enumerate(values) if end <= cue.start()}
    return out if len(out) < len(values) else set()


def repaired(text: str) -> bool:
    return bool(REPAIR.search(text))
