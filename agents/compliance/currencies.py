"""Which currency a mark names ("$", "£", "zł", "CHF", "euros"), and how its home countries write numbers.

The tables come from CLDR through babel (currency symbols, territories and their currencies, decimal and grouping
marks), built once; the few overrides are where an English-speaking desk reads a mark differently from CLDR.
agents/compliance/money.py reads amounts with them.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from babel import Locale, UnknownLocaleError
from babel.localedata import locale_identifiers
from babel.numbers import get_decimal_symbol, get_group_symbol, get_territory_currencies

UNKNOWN = "XXX"  # ISO 4217 "no currency": the mark names no single currency (kr, Rs, ￥), so no rate applies

# Currency words and the codes customers type in lower case; a mark is looked up here before CLDR symbols.
WORDS_TO_CODE = {
    "dollar": "USD", "dollars": "USD", "buck": "USD", "bucks": "USD", "dólar": "USD", "dólares": "USD",
    "dolares": "USD", "euro": "EUR", "euros": "EUR", "pound": "GBP", "pounds": "GBP", "quid": "GBP",
    "sterling": "GBP", "franc": "CHF", "francs": "CHF", "franken": "CHF", "yen": "JPY", "yuan": "CNY",
    "rmb": "CNY", "rupee": "INR", "rupees": "INR",
}
COMMON_CODES = frozenset(
    "USD EUR GBP CHF CAD AUD NZD JPY CNY HKD SGD SEK NOK DKK PLN CZK HUF INR MXN BRL ZAR RUB UAH KRW".split())
# ISO codes that are also English words ("ALL 40 of them", "TOP 10"): never read as a currency mark.
_WORDLIKE_CODES = frozenset("ALL TOP TRY CUP MOP BOB GEL PEN SOS MAD BAM NAD ANG AMD TMT LAK".split())
# CLDR gives C$ to Nicaragua; at an English-speaking desk it is mostly Canada, so a guess.
_SYMBOL_OVERRIDES = {"C$": ("CAD", True), "US$": ("USD", False)}
_SYMBOL_CHARS = re.compile(r"[^A-Za-z0-9.\s\u200b-]")  # a symbol has a mark that is not a plain letter


# ---- CLDR tables, built once --------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _locales_by_territory() -> dict[str, tuple[str, ...]]:
    by: dict[str, list[str]] = {}
    for ident in locale_identifiers():
        parts = ident.split("_")
        if len(parts) == 2 and parts[1].isalpha() and parts[1].isupper():
            by.setdefault(parts[1], []).append(ident)
    return {t: tuple(sorted(ids)) for t, ids in by.items()}


@lru_cache(maxsize=1)
def _territory_currencies() -> dict[str, tuple[str, ...]]:
    return {t: tuple(get_territory_currencies(t)) for t in _locales_by_territory()}


@cache
def home_locales(code: str) -> tuple[str, ...]:
    """Locales of the issuing country (USD → en_US, es_US…); for a union currency, the most likely locale of
    its members, one per language (EUR → de_DE, fr_FR, en_IE…), which is enough to know how they write numbers."""
    by = _locales_by_territory()
    if code[:2] in by and code in _territory_currencies()[code[:2]]:
        return by[code[:2]]
    members = [_likely(t) for t, codes in _territory_currencies().items() if code in codes and _likely(t)]
    return tuple({ident.split("_")[0]: ident for ident in reversed(members)}.values())  # one per language


@cache
def _likely(territory: str) -> str:
    try:
        return str(Locale.parse(f"und_{territory}"))
    except UnknownLocaleError:
        return ""


@cache
def conventions(code: str) -> tuple[str, ...]:
    """One locale per distinct way of writing numbers in the currency's home (decimal mark, and the
    thousands mark when it is "." or ","); a currency without a home is read both ways."""
    seen: dict[tuple[str, str], str] = {}
    for ident in home_locales(code) or ("en_US", "de_DE"):
        dec, grp = get_decimal_symbol(ident), get_group_symbol(ident)
        seen.setdefault((dec, grp if grp in ".," else ""), ident)
    return tuple(seen.values())


@lru_cache(maxsize=1)
def _current_codes() -> frozenset[str]:
    return frozenset(c for codes in _territory_currencies().values() for c in codes)


@lru_cache(maxsize=1)
def symbols() -> dict[str, tuple[str, bool]]:
    """Currency symbol → (ISO code, guessed). English CLDR symbols first (unambiguous by design: A$, CA$,
    €, £, ¥); then each currency's home symbol, where one shared by several currencies names none."""
    current, shared, english = _current_codes(), {}, Locale("en").currency_symbols
    for code in sorted(c for c in COMMON_CODES if not _SYMBOL_CHARS.search(english.get(c, ""))):
        # home symbols where English has none (zł, Kč, ₽…)
        local = Locale.parse(_likely(code[:2])).currency_symbols if _likely(code[:2]) else {}
        sym = local.get(code, "").strip()
        if sym and _SYMBOL_CHARS.search(sym):
            shared.setdefault(sym, set()).add(code)
    table = {s: ((c.pop(), False) if len(c) == 1 else (UNKNOWN, False)) for s, c in shared.items()}
    table.update({s: (c, False) for c, s in english.items() if c in current and _SYMBOL_CHARS.search(s)})
    table.update(_SYMBOL_OVERRIDES)
    return table


def currency_of(mark: str) -> tuple[str, bool] | None:
    """(ISO code, guessed) of a currency word, code or symbol; None when the mark is not money."""
    low = mark.lower()
    if low in WORDS_TO_CODE:
        return WORDS_TO_CODE[low], False
    if mark.isalpha() and len(mark) == 3:
        up = mark.upper()
        if up in COMMON_CODES or (mark.isupper() and up in _current_codes() and up not in _WORDLIKE_CODES):
            return up, False
        return None
    return symbols().get(mark)

