"""Money in customer messages: which amounts, in which currency, and how sure the reading is.

A refund limit is only as good as the number it is compared with. "$1.2k", "$9OO", "$1'200" and "1 200 €"
were once read as $1.20, $9, $1 and nothing; "£450" was compared with a dollar limit as if it were dollars.
So every amount carries its ISO 4217 currency, and a reading that needed a guess (a letter for a digit,
separators the currency's own locales read two ways, a currency it had to guess) says so in `unsure`: the
desk asks the customer to confirm instead of acting on a misread figure.

Number conventions (which of "." and "," is the decimal mark), currency precision and currency symbols come
from CLDR through babel (tables in agents/compliance/currencies.py), a maintained source, rather than a
hand-written table; words go through word2number. price-parser was tried and not used: it reads "$1.2k" as 1.2
and "$9OO" as 9 and cannot say when it guessed, which is the failure this module exists to prevent.

The scanner is one pass of possessive patterns with bounded look-around, so its cost is linear in the
message; a digit run longer than MAX_DIGITS is an identifier or noise, never money.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel.numbers import NumberFormatError, get_currency_precision, parse_decimal
from word2number import w2n

from agents.compliance.currencies import (
    COMMON_CODES,
    UNKNOWN,
    WORDS_TO_CODE,
    conventions,
    currency_of,
    home_locales,
    symbols,
)

__all__ = ["COMMON_CODES", "UNKNOWN", "WORDS_TO_CODE", "Money", "Scan", "conventions", "currency_of", "home_locales",
           "read_number", "scan", "symbols", "to_base"]

MAX_DIGITS = 24
MAX_AMOUNTS = 50  # a message listing more amounts than this is not a request a limit can judge anyway

# Why a reading is a guess.
LETTER = "letter_as_digit"  # "$9OO", "$l00"
SEPARATOR = "ambiguous_separator"  # "€1.200": 1200 in Germany, 1.2 in Ireland
SPACE = "space_grouping"  # "$1 200" with an ordinary space: 1200, or $1 and a stray 200
CURRENCY = "currency_guess"  # "C$" (Canadian or Nicaraguan), "$40 £" (two marks that disagree)

_SP = "[ \u00a0\u202f\u2009]"  # space, no-break space, narrow no-break space, thin space
_SPACES = " \u00a0\u202f\u2009"
_NO_MARK = frozenset("0123456789 ,.;:!?()[]{}#-/\n\t\"'")
_GROUPING = re.compile(r"['’ʼ\u00a0\u202f\u2009 ]")  # marks that only ever separate thousands
_NUMBER = re.compile(r"\d[\dOol]*+(?:(?:[.,'’ʼ\u00a0\u202f\u2009]| (?=\d{3}(?!\d)))[\dOol]++)*+")
_CONFUSABLE = str.maketrans("Ool", "001")
_SUFFIX = re.compile(r"(?:[ \u00a0]?(thousand|million|billion|grand|hundred)|(k|m|mn|bn))(?![^\W\d_])", re.I)
_SCALE = {"k": 3, "thousand": 3, "grand": 3, "m": 6, "mn": 6, "million": 6, "bn": 9, "billion": 9, "hundred": 2}
_NUMWORD = (r"(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen"
            r"|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred"
            r"|thousand|million)(?![^\W\d_])")
_IN_WORDS = re.compile(
    rf"(?<![^\W\d_])(?:an?[ -])?{_NUMWORD}(?:(?:[ -]|[ ]and[ ]){_NUMWORD}){{0,12}}+[ ]([^\W\d_]{{1,12}}+)(?![^\W\d_])",
    re.I)
_LETTERS = re.compile(r"[^\W\d_]++")


@dataclass(frozen=True)
class Money:
    value: float
    currency: str
    start: int
    end: int
    unsure: tuple[str, ...] = ()

    @property
    def span(self) -> tuple[int, int]:
        return self.start, self.end


@dataclass(frozen=True)
class Scan:
    amounts: list[Money]
    unreadable: list[str]  # money-marked numbers no convention reads ("$12.345", "$1,2500"): ask, don't guess


@lru_cache(maxsize=1)
def _marks() -> tuple[re.Pattern[str], re.Pattern[str]]:
    syms = "|".join(re.escape(s) for s in sorted(symbols(), key=len, reverse=True))
    before = re.compile(rf"(?:(?P<sym>{syms})|(?<![^\W\d_])(?P<word>[A-Za-z]{{3}})){_SP}?\Z")
    after = re.compile(rf"{_SP}?(?:(?P<sym>{syms})(?!{_SP}?\d)|(?P<word>[^\W\d_]{{2,12}}+)(?![^\W\d_]))")
    return before, after



# ---- reading one number ---------------------------------------------------------------------------------------
def _ungroup(core: str) -> str | None:
    """Drop apostrophe and space thousands marks ("1'200", "1 200,50"), which must group by three."""
    parts = _GROUPING.split(core)
    if len(parts) == 1:
        return core
    ok = (re.fullmatch(r"\d{1,3}", parts[0]) and all(re.fullmatch(r"\d{3}", p) for p in parts[1:-1])
          and re.fullmatch(r"\d{3}(?:[.,]\d+)?", parts[-1]))
    return "".join(parts) if ok else None


def read_number(core: str, code: str, scale: int = 0) -> tuple[Decimal, bool] | None:
    """(value, ambiguous) of digits with "." and "," as the currency's home locales write them; None when no
    locale reads them as an amount of that currency (more decimals than it has: "$12.345")."""
    plain = _ungroup(core)
    if plain is None:
        return None
    precision, seen, valid = get_currency_precision(code), set(), set()
    for ident in conventions(code):
        try:
            raw = parse_decimal(plain, locale=ident, strict=True)
        except NumberFormatError:
            continue
        value = raw.scaleb(scale)
        seen.add(value)
        places = -(value.normalize() if scale else raw).as_tuple().exponent
        if places <= max(precision, 0):
            valid.add(value)
    if not valid:
        return None
    return max(valid), len(seen) > 1


# ---- scanning a message -----------------------------------------------------------------------------------------
def _number_mark(text: str, m: re.Match[str]) -> tuple[Money | None, str | None]:
    """The amount a number token is part of (with its marks), or the unreadable snippet, or neither."""
    before_rx, after_rx = _marks()
    start, end, core = m.start(), m.end(), m.group()
    if sum(c.isdigit() for c in core) > MAX_DIGITS or len(core) > 2 * MAX_DIGITS:
        return None, None
    reasons: list[str] = []
    suffix = _SUFFIX.match(text, end)
    letters_after = _LETTERS.match(text, suffix.end() if suffix else end)
    if any(c in "Ool" for c in core):
        if letters_after:  # "$40lbs": the letters are a word, not digits
            core = core[: next(i for i, c in enumerate(core) if c in "Ool")].rstrip(".,'’ʼ \u00a0\u202f\u2009")
            end, suffix = start + len(core), None
        reasons.append(LETTER)
        core = core.translate(_CONFUSABLE)
    scale = _SCALE[(suffix.group(1) or suffix.group(2)).lower()] if suffix else 0
    tail = suffix.end() if suffix else end
    near = text[max(0, start - 2):start].rstrip(_SPACES)[-1:]  # a mark ends in a letter or a symbol
    pre = before_rx.search(text, max(0, start - 16), start) if near and near not in _NO_MARK else None
    near = text[tail:tail + 2].lstrip(_SPACES)[:1]
    post = after_rx.match(text, tail, tail + 16) if near and near not in _NO_MARK else None
    cur_pre = currency_of(pre.group("sym") or pre.group("word")) if pre else None
    cur_post = currency_of(post.group("sym") or post.group("word")) if post else None
    if not (cur_pre or cur_post):
        return None, None
    if not cur_pre and start and re.match(r"[\w.,#/-]", text[start - 1]):
        return None, None  # "BW-450 dollars", "v2.450 eur": part of an identifier
    code, guessed = cur_post if cur_post and (not cur_pre or cur_pre[0] in ("USD", cur_post[0])) else cur_pre
    if cur_pre and cur_post and cur_pre[0] != cur_post[0] and cur_pre[0] != "USD":
        code, guessed = UNKNOWN, True
    if guessed:
        reasons.append(CURRENCY)
    if " " in core and not cur_post:
        reasons.append(SPACE)  # "1 200 €" is how French writes it; "$1 200" may be $1 and a stray 200
    left = pre.start() if cur_pre else start
    right = post.end() if cur_post else tail
    reading = read_number(core, code, scale)
    if reading is None:
        return None, text[left:right]
    value, ambiguous = reading
    if ambiguous:
        reasons.append(SEPARATOR)
    return Money(_as_float(value, code), code, left, right, tuple(dict.fromkeys(reasons))), None


def _as_float(value: Decimal, code: str) -> float:
    return round(float(value), max(get_currency_precision(code), 0))


def _word_amounts(text: str) -> list[Money]:
    out = []
    for m in _IN_WORDS.finditer(text):
        cur = currency_of(m.group(1))
        if not cur:
            continue
        try:
            value = w2n.word_to_num(text[m.start():m.start(1)].strip().replace("-", " "))
        except (ValueError, IndexError):
            continue
        if value > 0:
            # Words are read exactly (word2number), so "nine hundred dollars" is $900 as surely as "$900" is.
            out.append(Money(float(value), cur[0], m.start(), m.end(), (CURRENCY,) if cur[1] else ()))
    return out


def scan(text: str) -> Scan:
    """Every money amount in `text`, in order, and the money-marked numbers that could not be read."""
    amounts: list[Money] = []
    unreadable: list[str] = []
    for m in _NUMBER.finditer(text):
        money, bad = _number_mark(text, m)
        if money:
            amounts.append(money)
        elif bad:
            unreadable.append(bad)
        if len(amounts) + len(unreadable) >= MAX_AMOUNTS:
            break
    taken = [a.span for a in amounts]
    amounts += [w for w in _word_amounts(text) if not any(a < w.end and w.start < b for a, b in taken)]
    return Scan(sorted(amounts, key=lambda a: a.start), unreadable)


def to_base(value: float | None, currency: str | None, rates: dict[str, float] | None,
            base: str = "USD") -> float | None:
    """`value` in the base currency with a configured rate (units of base per unit of `currency`); None when
    there is no rate or no finite value, so an amount is never compared in the wrong currency."""
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    code = (currency or base).upper()
    rate = (rates or {}).get(code, 1.0 if code == base else None)
    return None if rate is None else value * rate
