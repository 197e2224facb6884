"""Offline query shaping for long, rambling customer messages.

A multi-paragraph message usually carries several needs; one embedding of the whole text
blurs them. We search with the whole message first, then with its parts (paragraphs, long
ones cut into sentence windows), and fuse the rankings.
"""

from __future__ import annotations

import re

from knowledge.text import split_sentences, tokens

MAX_SUB_QUERIES = 6
WINDOW_SENTENCES = 3
MIN_PART_TOKENS = 3
CUES = ("?", "how", "what", "why", "can i", "can you", "need", "want", "help", "where", "when", "would like")


def key_sentences(text: str, n: int = 3) -> str:
    """The `n` sentences that look most like a request (questions, 'I want', 'how do I'), in order."""
    sentences = split_sentences(text)
    if len(sentences) <= n:
        return text.strip()
    scored = []
    for i, s in enumerate(sentences):
        low = s.lower()
        score = sum(c in low for c in CUES) + 0.5 * (i == len(sentences) - 1) + min(len(tokens(s)), 12) / 12
        scored.append((score, i, s))
    keep = sorted(sorted(scored, reverse=True)[:n], key=lambda t: t[1])
    return " ".join(s for _, _, s in keep)


def _parts(text: str) -> list[str]:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    out: list[str] = []
    for p in paragraphs:
        sentences = split_sentences(p)
        if len(sentences) <= WINDOW_SENTENCES + 1:
            out.append(" ".join(sentences))
            continue
        for i in range(0, len(sentences), WINDOW_SENTENCES):
            out.append(" ".join(sentences[i : i + WINDOW_SENTENCES]))
    return [p for p in out if len(tokens(p)) >= MIN_PART_TOKENS]


def sub_queries(text: str, limit: int = MAX_SUB_QUERIES) -> list[str]:
    """[whole message, its parts...]; a short message is its own only query."""
    text = text.strip()
    if not text:
        return []
    parts = _parts(text)
    if len(parts) <= 1:
        return [text]
    if len(parts) > limit - 1:
        ranked = sorted(range(len(parts)), key=lambda i: -sum(c in parts[i].lower() for c in CUES))
        parts = [parts[i] for i in sorted(ranked[: limit - 1])]
    return [text, *parts]
