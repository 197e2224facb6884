"""Benchmarks behind `python -m app bench ...`; each returns a JSON-able dict of measured numbers."""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from app.services import Services


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def retrieval(svc: Services, collection: str | None, queries: Path, k: int) -> dict:
    rows = [json.loads(line) for line in Path(queries).read_text(encoding="utf-8").splitlines() if line.strip()]
    retriever = svc.retriever(collection)
    retriever.search("warm up", k=k)
    recalls, rrs, lat = [], [], []
    for row in rows:
        t = time.perf_counter()
        hits = retriever.search(row["query"], k=k)
        lat.append((time.perf_counter() - t) * 1000)
        got = [h.doc_id for h in hits]
        rel = set(row["relevant"])
        recalls.append(len(rel & set(got)) / len(rel) if rel else 0.0)
        rrs.append(next((1.0 / (i + 1) for i, d in enumerate(got) if d in rel), 0.0))
    return {
        "collection": collection or svc.settings.collection,
        "n": len(rows),
        f"recall@{k}": round(statistics.fmean(recalls), 4) if rows else 0.0,
        "mrr": round(statistics.fmean(rrs), 4) if rows else 0.0,
        "latency_ms_p50": round(_pct(lat, 0.5), 2),
        "latency_ms_p95": round(_pct(lat, 0.95), 2),
    }
