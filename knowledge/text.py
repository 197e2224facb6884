"""Small text utilities shared by chunking, lexical search and extractive answers."""

from __future__ import annotations

import re

_SENT_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset(
    """a an and are as at be been but by can could do does did for from has have had how i if in into is it its
    just me my of on or our please so than that the their them then there these they this to too us was we were
    what when where which who why will with would you your yours i'm im hi hello thanks thank get got want need
    can't cant don't dont also any some all about after before again very really still one""".split()
)


def split_sentences(text: str) -> list[str]:
    out: list[str] = []
    for line in text.splitlines():
        item = re.match(r"^\s*([-*]|\d+[.)])\s", line)  # a list item: its bullet or number goes
        line = line.strip().lstrip("-*0123456789.) ").strip() if item else line.strip()
        if not line or line.startswith("#"):
            continue
        out.extend(s.strip() for s in _SENT_RE.split(line) if s.strip())
    return out


def _stem(word: str) -> str:
    for suffix in ("ing", "edly", "ed", "ies", "es", "s", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def tokens(text: str) -> list[str]:
    """Lower-cased, stop-word-free, lightly stemmed tokens for BM25 and overlap scores."""
    return [_stem(w) for w in _WORD_RE.findall(text.lower()) if w not in STOPWORDS]
