"""Which language the customer writes in, and an English rendering of its help-centre vocabulary.

The detector is lingua-language-detector rather than langdetect: lingua is markedly more accurate on short text
(one sentence or a few words, i.e. most chat messages) and it is deterministic, while langdetect samples and
gives different answers on the same short input unless seeded. It is restricted to the languages a European
shop expects, which keeps it from exotic guesses on short inputs, and is trusted only on messages with enough
letters: below that, and when its best guess is not clearly ahead, the message counts as English unless its
wording says otherwise (the small-talk lexicon knows "bonjour" or "danke").

There is no offline machine translation on PyPI that does not download model weights at run time, so the
English rendering is a glossary of support vocabulary (agents/glossary.yaml). It is enough for the English
classifier and the English help centre to find the topic; it is not a translation anyone reads.
"""

from __future__ import annotations

import difflib
import re
import threading
import unicodedata
from functools import cache
from pathlib import Path

import yaml

NAMES = {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
         "nl": "Dutch"}
MIN_LETTERS = 12  # below this lingua's guesses on a handful of letters are not worth trusting
MIN_CONFIDENCE = 0.5  # lingua's relative confidence of its best language
WEAK_CONFIDENCE = 0.3  # ...enough when the glossary of that language knows a word of the message
GLOSSARY = Path(__file__).with_name("glossary.yaml")
_WORD = re.compile(r"[#\w][\w'’@.\-]*\w|\w", re.UNICODE)

_lock = threading.Lock()
_detector = None


def _lingua():
    """Built once per process (the language models load on first use, ~2 s)."""
    global _detector
    with _lock:
        if _detector is None:
            from lingua import IsoCode639_1, LanguageDetectorBuilder

            codes = [getattr(IsoCode639_1, code.upper()) for code in NAMES]
            _detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()
        return _detector


def detect(text: str) -> str | None:
    """ISO 639-1 code of the message's language, or None when the message is too short to tell."""
    if sum(c.isalpha() for c in text) < MIN_LETTERS:
        return None
    values = _lingua().compute_language_confidence_values(text)
    if not values:
        return None
    code = values[0].language.iso_code_639_1.name.lower()
    if values[0].value >= MIN_CONFIDENCE:
        return code
    if values[0].value >= WEAK_CONFIDENCE and code != "en" and _own_words(text, code):
        return code  # a short message lingua half-trusts, with support words of that language in it
    return None


def _own_words(text: str, lang: str) -> int:
    """How many of the message's words are support vocabulary of `lang` itself (not shared product words)."""
    entries = _glossary()
    own = {fold(str(k)) for k in (entries.get(lang) or {})} - {fold(str(k)) for k in entries.get("common") or {}}
    words = set(re.findall(r"[\w']+", fold(text)))
    return len(words & own)


def fold(text: str) -> str:
    """Lower case without accents, so "réinitialiser", "reinitialiser" and "RÉINITIALISER" match alike."""
    text = unicodedata.normalize("NFKD", text.lower().replace("’", "'").replace("ß", "ss"))
    return "".join(c for c in text if not unicodedata.combining(c))


@cache
def _glossary() -> dict:
    return yaml.safe_load(GLOSSARY.read_text(encoding="utf-8")) or {}


@cache
def _phrases(lang: str) -> tuple[re.Pattern, dict[str, str]] | None:
    entries = _glossary()
    if not entries.get(lang):
        return None
    table = {**entries.get("common", {}), **entries[lang]}  # product and brand words read the same everywhere
    mapping = {fold(str(k)): str(v) for k, v in table.items()}
    alternatives = "|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True))
    return re.compile(rf"(?<![\w'])(?:{alternatives})(?![\w'])"), mapping


def gloss(text: str, lang: str | None) -> str | None:
    """English keywords for a message in `lang` (None for English or a language without a glossary).

    Glossary phrases become their English, in the order written; words with digits or an id mark (order
    numbers, amounts) are kept as they are; other words are dropped, since to the English models they are noise.
    """
    table = _phrases(lang) if lang and lang != "en" else None
    if table is None:
        return None
    pattern, mapping = table
    folded, out, pos = fold(text), [], 0
    for m in pattern.finditer(folded):
        out += _kept(folded[pos:m.start()])
        out.append(mapping[m.group()])
        pos = m.end()
    out += _kept(folded[pos:])
    words = " ".join(w for w in out if w)
    return words or None


def _kept(chunk: str) -> list[str]:
    return [w for w in _WORD.findall(chunk) if any(c.isdigit() for c in w) or w.startswith("#") or "$" in w]


# Support words customers misspell most ("cancle", "refnud", "pasword"): a misspelt key word sends the
# classifier and the search elsewhere. Only a word that is not itself a common English word and is one or two
# edits from exactly one of these is corrected (difflib's ratio; the standard library, no word list to ship).
DOMAIN_WORDS = (
    "cancel", "cancelled", "cancellation", "refund", "refunded", "password", "order", "orders", "account",
    "address", "delivery", "deliver", "delivered", "receive", "received", "return", "returned", "shipping",
    "shipped", "invoice", "receipt", "warranty", "payment", "charge", "charged", "tracking", "package", "parcel",
    "reset", "money", "headphones", "earphones", "laptop", "speaker", "broken", "replacement", "membership",
    "subscription", "delete", "change", "update", "email", "phone", "number", "arrived", "damaged", "missing",
    "wrong", "verification", "recognise", "unauthorised", "purchase", "express", "standard", "customer",
)
_KNOWN = frozenset(DOMAIN_WORDS) | frozenset("""cancels canceled canceling cancelling refunds refunding passwords
ordered ordering accounts addresses deliveries returns returning ship ships invoices receipts payments charges
track tracked packages parcels resets headphone laptops speakers break breaks change changed changes updated
updates emails phones numbers arrive damage miss wrong verify purchased purchases customers chance charger chargers
range orange border cancer recent record cause clause record reason person personal respond response answer
after other offer older holder ready really rather there these those their where while which whose would could
should about above again against among around before behind being below beside between beyond during except
inside outside through toward under until within without speak speaking speaks spoke coder""".split())
EXAMPLES = Path(__file__).with_name("triage_examples.csv")


@cache
def _vocabulary() -> frozenset[str]:
    """Words the classifier was trained on are left alone: they are English (or a typo it already knows)."""
    words = re.findall(r"[a-z]+", EXAMPLES.read_text(encoding="utf-8").lower()) if EXAMPLES.exists() else []
    return _KNOWN | frozenset(words)
_SPELL_WORD = re.compile(r"[A-Za-z]{4,}")


def respell(text: str) -> str:
    """The English message with misspelt support words corrected; anything else is left as written."""
    def fix(m: re.Match) -> str:
        word = m.group()
        low = word.lower()
        if low in _vocabulary():
            return word
        near = difflib.get_close_matches(low, DOMAIN_WORDS, n=2, cutoff=0.8)
        if not near or (len(near) > 1 and difflib.SequenceMatcher(None, low, near[1]).ratio()
                        == difflib.SequenceMatcher(None, low, near[0]).ratio()):
            return word
        return near[0]
    return _SPELL_WORD.sub(fix, text)
