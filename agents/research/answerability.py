"""Answerability: does the section the desk chose answer the question, or only share a word with it?

Extractive answers are the help centre's own sentences, so the grounding check always passes them; what it cannot
see is a question the help centre does not answer at all ("Is the Pulse speaker available in orange?") answered
from the nearest section (the membership price). Two signals, both read from what retrieval already computed:

* **coverage**: the share of the question's salient terms the chosen section (its text, heading and title) holds,
  each weighted by how rare it is in the knowledge base (BM25's idf; a term the knowledge base never uses, such as
  a colour, a console or a country, weighs most). Salient terms are the question's words less English function
  words (scikit-learn's list of 318) and less the words most of the knowledge base shares;
* **similarity**: the dense similarity of the section's document to the question.

Their sum is compared with `Settings.answerability_threshold`, calibrated on a labelled set: answerable and
unanswerable questions written for it, plus the dev sets' answered first turns (`app/bench/data/answerability.jsonl`;
`python -m app bench answerability` prints the separation and the best threshold). Below it the desk says it does
not know and a person follows up.
"""

from __future__ import annotations

import difflib
import math
import re
import weakref

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from knowledge.text import tokens

COMMON_SHARE = 0.25  # a term in more than this share of chunks says nothing about which section answers
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_DF: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_FUNCTION_WORDS = sorted(w for w in ENGLISH_STOP_WORDS if len(w) > 3)


def _frequencies(lexical) -> tuple[dict[str, int], int]:
    """(chunks holding each term, chunks), from the BM25 matrix, once per index."""
    if lexical not in _DF:
        counts = np.diff(lexical.matrix.tocsc().indptr) if lexical.matrix is not None else []
        _DF[lexical] = ({t: int(counts[j]) for t, j in lexical.vocab.items()}, len(lexical.ids))
    return _DF[lexical]


def content_words(text: str) -> list[str]:
    """The text's words that name things: not function words, nor misspellings of one ("wher", "whats"), nor
    numbers (an order id or an amount is a detail of the request, not its topic)."""
    words = [w for w in _WORD.findall(text.lower()) if w not in ENGLISH_STOP_WORDS and "'" not in w
             and len(w) > 2 and not w.isdigit()
             and not difflib.get_close_matches(w, _FUNCTION_WORDS, n=1, cutoff=0.85)]
    return list(dict.fromkeys(words))


def salient_terms(question: str) -> list[str]:
    return list(dict.fromkeys(tokens(" ".join(content_words(question)))))


def weights(question: str, lexical) -> dict[str, float]:
    df, n = _frequencies(lexical)
    out = {}
    for term in salient_terms(question):
        seen = df.get(term, 0)
        if n and seen / n <= COMMON_SHARE:
            out[term] = math.log(1 + n / (seen or 1))  # unknown to the knowledge base: as rare as its rarest term
    return out


def _held(term: str, words: set[str]) -> bool:
    """In the section, or a misspelling of one of its words ("oder", "pasword"): typos are not new topics."""
    return term in words or bool(len(term) >= 4 and difflib.get_close_matches(term, words, n=1, cutoff=0.8))


def coverage(question: str, passage: dict, lexical) -> float:
    wanted = weights(question, lexical)
    if not wanted:
        return 1.0  # nothing specific asked: the section's similarity decides
    held = set(tokens(f"{passage.get('title', '')} {passage.get('section', '')} {passage.get('text', '')}"))
    return sum(w for t, w in wanted.items() if _held(t, held)) / sum(wanted.values())


def score(question: str, passage: dict, lexical) -> float:
    return round(coverage(question, passage, lexical) + float(passage.get("similarity") or 0.0), 4)
