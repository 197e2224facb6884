"""Personal-data detection and redaction, applied before text reaches models, stores or logs.

Validation comes from maintained libraries rather than ever-growing regexes: phone numbers from `phonenumbers`
(metadata for every region, so `+44 20 7946 0958` and `030 12345678` are recognised and `2026-11-29` is not),
IBAN checksums and country formats from `python-stdnum`, Luhn from `stdnum.luhn`. Regexes only find candidates
(and emails, for which no library fits the obfuscated forms customers type).

`redact` runs on every message, log record and audit entry, so every scan is linear in the input: candidate
patterns are anchored at the start of a run (a lookbehind excludes the run's own characters), use possessive
or bounded repetition, and the expensive validators see only short, bounded windows.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Any, NamedTuple

from phonenumbers import Leniency, PhoneNumberMatcher
from stdnum import iban as _iban
from stdnum import luhn as _luhn
from stdnum.us import ssn as _ssn

PLACEHOLDERS = {"email": "[EMAIL]", "card": "[CARD]", "iban": "[IBAN]", "ssn": "[SSN]", "phone": "[PHONE]"}
# National formats are tried in these regions; numbers written with +<country code> are found in any of them.
REGIONS = ("US", "GB", "DE", "FR", "ES", "IN", "AU", "BR")

# Candidate patterns kept importable for agents.triage.signals (validate with luhn_ok / an IBAN checksum); new code
# should use `spans`, which applies every check below.
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)+")
PHONE = re.compile(r"(?<![\w#-])(?:\+?\d{1,3}[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]\d{3}[\s.-]\d{4}\b")
CARD = re.compile(r"\b(?:\d[ ./-]?){12,18}\d\b")
SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b")

# "name at example dot com", "name [at] example [dot] com", "name(at)example(dot)com", "name dot x @ example.com"
_AT = r"(?P<at>\s*+@\s*+|\s*+[\[({<]\s*+at\s*+[\])}>]\s*+|\s++at\s++)"
_DOT = r"(?:\.|\s*+[\[({<]\s*+(?:dot|\.)\s*+[\])}>]\s*+|\s++dot\s++|\s++\.\s++)"
OBFUSCATED_EMAIL = re.compile(
    rf"(?<![\w.+-])(?P<local>[\w+-]++(?:{_DOT}[\w+-]++){{0,4}}){_AT}"
    rf"(?P<domain>[\w-]++(?:{_DOT}[\w-]++){{0,4}}{_DOT}[a-z]{{2,24}})(?![\w-])",
    re.I,
)
_WORD_DOT = re.compile(r"[\[({<]\s*(?:dot|\.)|\sdot\s", re.I)
_MAIL_PROVIDER = re.compile(r"(?:gmail|googlemail|yahoo|hotmail|outlook|icloud|aol|proton(?:mail)?|gmx|yandex|zoho)"
                            r"\.[a-z]{2,3}(?:\.[a-z]{2})?", re.I)
_NOT_A_MAILBOX = {"in", "on", "me", "us", "up", "it", "is", "to", "you", "we", "them", "him", "her", "log", "sign"}

_DIGIT_RUN = re.compile(r"\d++(?:\s?[./_-]?\s?\d++)*+")  # digit groups with one separator between them
_DIGITS = re.compile(r"\d+")
_ANY_DIGIT = re.compile(r"\d")
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}")
_IBAN_RUN = re.compile(r"[A-Za-z]{2}\d{2}(?:[ .-]{0,2}[A-Za-z0-9]){11,30}")
_SSN = re.compile(r"(?<![\w./-])\d{3}(\s?[-./]\s?|\s)\d{2}\1\d{4}(?![\w/-]|\.\d)")
_SSN_LABELLED = re.compile(r"\b(?:ssn|social security(?: number| no\.?)?)\W{0,3}(?:is\s+)?(\d{9})(?!\d)", re.I)
_NANP = re.compile(  # US-style numbers (and extension), including the fictional 555 range phonenumbers calls invalid
    r"(?<![\w#$€£.,/+-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-]|[2-9]\d{2}(?=[2-9]\d{6}))\d{3}[\s.-]?\d{4}"
    r"(?:,?\s*+(?:ext\.?|extension|x)\s*+\d{1,6})?(?![\w]|[.,/-]\d)"
)
_AFTER_COUNTRY_CODE = re.compile(r"(?:\+|\b00)[1-9]\d{0,2}\)?[\s.-]?(?:\(0\)\s?)?$")
_PHONE_RUN = re.compile(r"(?:\+|\b00)?\(?\d[\d().\-/ \t]*+")
_DATE_OR_ZIP = re.compile(r"\d{4}([-/.])\d{1,2}\1\d{1,2}|\d{1,2}([-/.])\d{1,2}\2\d{2,4}|\d{5}-\d{4}")
_NOT_PHONE_BEFORE = re.compile(  # what an order id, a reference or an amount starts with
    r"(?:#|[A-Za-z]-|[$€£]\s?|\b(?:order|invoice|ref|reference|tracking|ticket|case|sku|item|rma)"
    r"\s*(?:number|no\.?|id|#)?\s*[:#]?\s*)$", re.I)
_TOKEN = re.compile(r"(?<!\S)\S++")
_WINDOW = 32  # longer than any formatted number ("+44 (0) 20 7946 0958 ext. 1234" continues past it)
_MAX_FAILURES = 6


class Span(NamedTuple):
    kind: str
    start: int
    end: int


def luhn_ok(digits: str) -> bool:
    nums = "".join(c for c in digits if c.isdigit())
    return 13 <= len(nums) <= 19 and _luhn.is_valid(nums)


class _Taken:
    """Non-overlapping spans kept sorted, so the overlap test stays logarithmic on inputs with many hits."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.starts: list[int] = []

    def free(self, start: int, end: int) -> bool:
        i = bisect_left(self.starts, start)
        return (i == 0 or self.spans[i - 1].end <= start) and (i == len(self.spans) or end <= self.spans[i].start)

    def add(self, kind: str, start: int, end: int) -> None:
        if start < end and self.free(start, end):
            i = bisect_left(self.starts, start)
            self.starts.insert(i, start)
            self.spans.insert(i, Span(kind, start, end))


def _emails(text: str, taken: _Taken) -> None:
    if "@" in text:
        for m in EMAIL.finditer(text):
            taken.add("email", *m.span())
    pos = 0
    while m := OBFUSCATED_EMAIL.search(text, pos):
        # a bare " at " is ordinary English ("log in at example.com"), so it needs more evidence of an address;
        # a rejected match is retried from its next word ("reach me at ana.lopez at example.com")
        if m.group("at").strip().lower() == "at" and not (
                _WORD_DOT.search(m.group()) or re.search(r"[.+]", m.group("local"))
                or (_MAIL_PROVIDER.fullmatch(m.group("domain")) and m.group("local").lower() not in _NOT_A_MAILBOX)):
            pos = m.start() + 1
            continue
        taken.add("email", *m.span())
        pos = m.end()


def _ibans(text: str, taken: _Taken) -> None:
    for start in _IBAN_START.finditer(text):
        run = _IBAN_RUN.match(text, start.start())
        if not run:
            continue
        s = run.group()
        # the run may have swallowed following words: try its prefixes that end at a group boundary
        ends = [i for i in range(len(s), 14, -1) if s[i - 1].isalnum()
                and ((i == len(s) and not text[run.end():run.end() + 1].isalnum()) or (i < len(s) and s[i] in " .-"))]
        for end in ends:
            if _iban.is_valid(s[:end]):
                taken.add("iban", run.start(), run.start() + end)
                break


def _cards(text: str, taken: _Taken) -> None:
    """Card numbers in any grouping (spaces, dashes, dots, slashes, none): windows of whole digit groups."""
    for run in _DIGIT_RUN.finditer(text):
        if run.end() - run.start() < 13:
            continue
        groups = [(g.start() + run.start(), g.end() + run.start()) for g in _DIGITS.finditer(run.group())]
        i = 0
        while i < len(groups):
            best, count = None, 0
            for j in range(i, len(groups)):
                count += groups[j][1] - groups[j][0]
                if count > 19:
                    break
                start, end = groups[i][0], groups[j][1]
                # issuer prefixes start with 2-6; "+55 11 9..." is a phone number, not a card
                if count >= 13 and text[start] in "23456" and text[start - 1:start] != "+" \
                        and _card_grouping([b - a for a, b in groups[i:j + 1]]) \
                        and _luhn.is_valid(re.sub(r"\D", "", text[start:end])):
                    best = j
            if best is not None:
                taken.add("card", groups[i][0], groups[best][1])
                i = best + 1
            else:
                i += 1


def _card_grouping(lengths: list[int]) -> bool:
    """How cards are printed (4-4-4-4[-3], Amex 4-6-5, Diners 4-6-4, one or two blocks), so that a list of
    order numbers ("55120 55121 55122") that happens to pass Luhn is not taken for a card."""
    return len(lengths) <= 2 or lengths in ([4, 6, 5], [4, 6, 4]) or all(n == 4 for n in lengths[:-1])


def _ssns(text: str, taken: _Taken) -> None:
    for m in _SSN.finditer(text):
        # the dashed form is an SSN by shape (test numbers included); other separators need a valid number
        if "-" in m.group(1) or _ssn.is_valid(re.sub(r"\D", "", m.group())):
            taken.add("ssn", *m.span())
    for m in _SSN_LABELLED.finditer(text):  # nine bare digits are an SSN only when called one
        taken.add("ssn", *m.span(1))


def _phones(text: str, taken: _Taken) -> None:
    for m in _NANP.finditer(text):
        # "+49 171 1234567" is German, not American
        if not _AFTER_COUNTRY_CODE.search(text, max(0, m.start() - 10), m.start()) and not _labelled(text, m.start()):
            taken.add("phone", *m.span())
    for run in _PHONE_RUN.finditer(text):
        s = run.group().rstrip(" \t().-/")
        start, end = run.start(), run.start() + len(s)
        if sum(map(str.isdigit, s)) < 7 or _DATE_OR_ZIP.fullmatch(s):
            continue
        # The matcher reads one candidate from where it starts, so a number after an order id or a date in the
        # same run ("55120 2026-11-29 020 7946 0958") is tried from each token; failures per run are capped.
        failures = 0
        for token in _TOKEN.finditer(s):
            tok, lo = token.group(), start + token.start()
            hi = min(end, lo + _WINDOW)
            if _DATE_OR_ZIP.fullmatch(tok) or sum(map(str.isdigit, text[lo:hi])) < 7:
                continue
            # glued to a letter ("1Z999AA1...", a hash) or labelled as an order the matcher need not run at all
            if text[lo - 1:lo].isalpha() or _labelled(text, lo) or _covered(taken, text, lo, lo + len(tok)):
                continue
            # no context before (an opening bracket would only confuse the matcher); room for "ext. 12" after
            base, window = lo - 1, " " + text[lo:hi + 16]
            # "+<country code>" is evidence enough, so any plausible length counts there; national numbers must be
            # valid in one of REGIONS. Only a number starting in this token counts: later tokens get their own turn.
            for region, leniency in _regions_for(tok):
                for pm in PhoneNumberMatcher(window, region, leniency=leniency, max_tries=16):
                    a, b = base + pm.start, base + pm.end
                    if text[a] == "(" and ")" not in pm.raw_string:  # the matcher keeps an unclosed "("
                        a += 1
                    if lo <= a < lo + len(tok) and not _labelled(text, a):
                        taken.add("phone", a, b)
                if not taken.free(lo, lo + len(tok)):
                    break
            else:
                failures += 1
                if failures >= _MAX_FAILURES:
                    break


def _labelled(text: str, start: int) -> bool:
    return bool(_NOT_PHONE_BEFORE.search(text, max(0, start - 30), start))


def _regions_for(token: str) -> list[tuple[str, Any]]:
    if re.match(r"\+[1-9]", token):
        return [("ZZ", Leniency.POSSIBLE)]  # the region is irrelevant after "+"; "ZZ" skips its metadata
    if re.match(r"00[1-9]", token):  # the international prefix in most of Europe
        return [("GB", Leniency.POSSIBLE)]
    # US formats are mostly _NANP's already and the US matcher is the slowest (25 regions share +1), so it goes last
    return [(region, Leniency.STRICT_GROUPING) for region in sorted(REGIONS, key=lambda r: r == "US")]


def _covered(taken: _Taken, text: str, start: int, end: int) -> bool:
    """Whether every digit in text[start:end] already belongs to a span (then no matcher run is needed)."""
    return all(not text[i].isdigit() or not taken.free(i, i + 1) for i in range(start, end))


def spans(text: str) -> list[Span]:
    """Every piece of personal data in `text`, non-overlapping and in order. Earlier kinds win overlaps: an email
    holds digits, an IBAN holds a card-length digit run, and a card is never also reported as a phone."""
    taken = _Taken()
    _emails(text, taken)
    if _ANY_DIGIT.search(text):
        _ibans(text, taken)
        _cards(text, taken)
        _ssns(text, taken)
        _phones(text, taken)
    return taken.spans


def find_pii(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for kind, start, end in spans(text):
        value = text[start:end]
        if value not in found.setdefault(kind, []):
            found[kind].append(value)
    return found


def redact(text: str) -> str:
    """Replace personal data with typed placeholders ([EMAIL] [PHONE] [CARD] [IBAN] [SSN])."""
    out, pos = [], 0
    for kind, start, end in spans(text):
        out += [text[pos:start], PLACEHOLDERS[kind]]
        pos = end
    return "".join(out) + text[pos:] if out else text


def redact_value(obj: Any) -> Any:
    """A copy of a JSON-like value (reviewer notes, edit arguments) with every string redacted, keys included.

    Numbers, booleans and None are left alone: amounts must survive for the policy limits. Built with an explicit
    stack rather than recursion, so a deeply nested payload cannot raise RecursionError here; tuples come back
    as lists (JSON has no tuples) and a container that holds itself maps to its own copy.
    """
    if isinstance(obj, str):
        return redact(obj)
    if not isinstance(obj, (dict, list, tuple)):
        return obj
    copies: dict[int, Any] = {}

    def shell(value: Any) -> tuple[Any, bool]:
        if isinstance(value, str):
            return redact(value), False
        if not isinstance(value, (dict, list, tuple)):
            return value, False
        if id(value) in copies:
            return copies[id(value)], False
        copies[id(value)] = {} if isinstance(value, dict) else []
        return copies[id(value)], True

    root, _ = shell(obj)
    stack = [obj]
    while stack:
        src = stack.pop()
        dst = copies[id(src)]
        for key, value in (src.items() if isinstance(src, dict) else enumerate(src)):
            copy, fresh = shell(value)
            if fresh:
                stack.append(value)
            if isinstance(dst, dict):
                dst[redact(key) if isinstance(key, str) else key] = copy
            else:
                dst.append(copy)
    return root
