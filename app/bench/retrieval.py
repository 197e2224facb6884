"""Benchmarks behind `python -m app bench ...`; each returns a JSON-able dict of measured numbers."""

from __future__ import annotations

import copy
import json
import statistics
import time
from pathlib import Path

import numpy as np

from app.services import Services
from app.store.metrics import percentile
from knowledge.query import sub_queries
from knowledge.retrieve import Retriever


def load_queries(path: Path, split: str | None = None) -> list[dict]:
    """JSONL rows `{"query", "relevant": [doc ids], "split"?}`; a bad line names its number."""
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            # an explicit check, not an assert, which `python -O` strips
            if not (isinstance(row["query"], str) and isinstance(row["relevant"], list)):
                raise TypeError("'query' must be a string and 'relevant' a list")
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: expected {{\"query\": str, \"relevant\": [doc ids]}} ({exc})") from None
        if split is None or row.get("split") == split:
            rows.append(row)
    return rows


def score(retriever: Retriever, rows: list[dict], k: int) -> dict:
    """recall@k, MRR and per-query latency (query shaping + embedding + search) of `retriever` on `rows`."""
    retriever.search("warm up", k=k)
    recalls, rrs, lat = [], [], []
    for row in rows:
        t = time.perf_counter()
        hits = retriever.search(sub_queries(row["query"]), k=k)
        lat.append((time.perf_counter() - t) * 1000)
        got = [h.doc_id for h in hits]
        rel = set(row["relevant"])
        recalls.append(len(rel & set(got)) / len(rel) if rel else 0.0)
        rrs.append(next((1.0 / (i + 1) for i, d in enumerate(got) if d in rel), 0.0))
    return {
        "n": len(rows),
        f"recall@{k}": round(statistics.fmean(recalls), 4) if rows else 0.0,
        "mrr": round(statistics.fmean(rrs), 4) if rows else 0.0,
        "latency_ms_p50": round(percentile(lat, 0.5), 2),
        "latency_ms_p95": round(percentile(lat, 0.95), 2),
    }


def retrieval(svc: Services, collection: str | None, queries: Path, k: int, split: str | None = None) -> dict:
    rows = load_queries(queries, split)
    out = {"collection": collection or svc.settings.collection, "split": split or "all"}
    return {**out, **score(svc.retriever(collection), rows, k)}


class _Precomputed:
    """Hands the retriever vectors embedded beforehand, so search time is measured on its own."""

    def __init__(self, vectors):
        self.vectors = vectors

    def embed(self, texts):
        return self.vectors


def build_scaled(svc: Services, source: str, chunks: int, name: str) -> int:
    """A synthetic collection of `chunks` chunks: copies of `source`'s chunks as distinct documents,
    vectors jittered (and re-normalised) so the ANN index is not full of exact duplicates."""
    src = svc.store(source).col.get(include=["documents", "metadatas", "embeddings"])
    if not src["ids"]:
        raise ValueError(f"collection {source!r} is empty: ingest something into it first")
    try:
        svc.chroma.delete_collection(name)
    except Exception:  # absent is fine
        pass
    store = svc.store(name)
    rng = np.random.default_rng(7)
    base = np.asarray(src["embeddings"], dtype=np.float32)
    ids, vecs, texts, metas = [], [], [], []
    copy = 0
    while len(ids) < chunks:
        jitter = base + (0.03 * rng.standard_normal(base.shape).astype(np.float32) if copy else 0)
        jitter /= np.linalg.norm(jitter, axis=1, keepdims=True)
        for cid, vec, text, meta in zip(src["ids"], jitter, src["documents"], src["metadatas"], strict=True):
            if len(ids) == chunks:
                break
            suffix = f"@{copy}" if copy else ""
            ids.append(cid + suffix)
            vecs.append(vec)
            texts.append(text)
            metas.append({**meta, "doc_id": meta["doc_id"] + suffix})
        copy += 1
    store.add(ids, vecs, texts, metas)
    store.bump_generation()
    return store.count()


def retrieval_scale(svc: Services, source: str, chunks: int, queries: Path, k: int) -> dict:
    """Latency with `chunks` chunks: end to end (query shaping + embedding + search), and its parts."""
    name = f"scale-{chunks}"
    t0 = time.perf_counter()
    size = build_scaled(svc, source, chunks, name)
    build_s = time.perf_counter() - t0
    embedder = getattr(svc.search_embedder, "inner", svc.search_embedder)  # no LRU cache: every query is embedded
    retriever = Retriever(svc.store(name), embedder)
    retriever.search("warm up", k=k)  # builds the BM25 index once, as a long-running process would
    total, embed, search, n_sub = [], [], [], []
    for row in load_queries(queries):
        t = time.perf_counter()
        qs = sub_queries(row["query"])
        retriever.search(qs, k=k)
        total.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        vecs = retriever.query_vectors(qs)
        embed.append((time.perf_counter() - t) * 1000)
        only = copy.copy(retriever)  # the same BM25 index, its vectors handed over
        only.embedder = _Precomputed(vecs)
        t = time.perf_counter()
        only.search(qs, k=k)
        search.append((time.perf_counter() - t) * 1000)
        n_sub.append(len(qs))
    svc.chroma.delete_collection(name)
    return {"chunks": size, "n": len(total), "sub_queries_mean": round(statistics.fmean(n_sub), 2),
            "build_s": round(build_s, 1), "latency_ms": _p50_p95(total), "embed_ms": _p50_p95(embed),
            "search_ms": _p50_p95(search)}


def _p50_p95(ms: list[float]) -> dict:
    return {"p50": round(percentile(ms, 0.5), 2), "p95": round(percentile(ms, 0.95), 2)}
