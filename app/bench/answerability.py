"""`bench answerability`: how well the answerability score separates questions the help centre answers from
questions it does not, on a labelled set, and which threshold does it best.

Each question runs through research's own retrieve and extractive-answer steps (the sections the desk would really
choose); the score is agents/research/answerability.py's. Prints, per threshold, answered-when-unanswerable and
refused-when-answerable, and the threshold with the fewest errors (ties: the lower one, which refuses less).
"""

from __future__ import annotations

import json
from pathlib import Path

from agents import language
from agents.research import answerability
from agents.research import nodes as research


def _score(question: str, svc) -> float:
    lang = language.detect(question) or "en"
    english = language.gloss(question, lang) if lang != "en" else language.respell(question)
    state = {"request": question, "triage": {"kind": "question", "search_text": english or question}}
    found = research.retrieve(state, svc)["research"]
    if not found["found"]:
        return 0.0
    chosen = research.answer_extractive({**state, "research": found}, svc)["research"]
    section = next((p for p in found["passages"] if p["section"] == chosen.get("section")), None)
    return answerability.score(found["query"], section, svc.retriever().lexical()) if section else 0.0


def run(svc, labelled: Path) -> dict:
    rows = [json.loads(line) for line in labelled.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        raise ValueError(f"{labelled}: no labelled questions")
    scored = [(_score(r["q"], svc), bool(r["answerable"]), r["q"]) for r in rows]
    candidates = sorted({round(s, 2) for s, *_ in scored} | {svc.settings.answerability_threshold})

    def errors(t: float) -> tuple[int, int]:
        return (sum(1 for s, a, _ in scored if s >= t and not a), sum(1 for s, a, _ in scored if s < t and a))

    table = [{"threshold": t, "answered_unanswerable": errors(t)[0], "refused_answerable": errors(t)[1]}
             for t in candidates]
    best = min(table, key=lambda r: (r["answered_unanswerable"] + r["refused_answerable"], r["threshold"]))
    now = next(r for r in table if r["threshold"] == svc.settings.answerability_threshold)
    return {
        "questions": len(rows), "answerable": sum(1 for _, a, _ in scored if a),
        "threshold": now, "best": best,
        "accuracy_at_threshold": round(1 - (now["answered_unanswerable"] + now["refused_answerable"]) / len(rows), 4),
        "misjudged": [{"question": q, "score": s, "answerable": a} for s, a, q in scored
                      if (s >= svc.settings.answerability_threshold) != a],
        "table": table,
    }
