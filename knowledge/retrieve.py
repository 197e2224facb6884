"""Hybrid retrieval: dense (Chroma) + lexical (BM25), fused by reciprocal rank, grouped by document."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
from rank_bm25 import BM25Okapi

from knowledge.embeddings import Embedder
from knowledge.store import ChunkStore
from knowledge.text import tokens

RRF_K = 60


@dataclass
class Hit:
    doc_id: str
    title: str
    score: float
    similarity: float
    chunks: list[tuple[str, str]] = field(default_factory=list)  # (section, text), best first


class _LexicalIndex:
    def __init__(self, ids: list[str], texts: list[str], metas: list[dict]):
        self.ids, self.texts, self.metas = ids, texts, metas
        corpus = [tokens(f"{m.get('title', '')} {m.get('section', '')} {t}") for t, m in zip(texts, metas)]
        self.bm25 = BM25Okapi(corpus) if corpus else None

    def search(self, query: str, n: int) -> list[int]:
        q = tokens(query)
        if not self.bm25 or not q:
            return []
        scores = self.bm25.get_scores(q)
        order = np.argsort(-scores)[:n]
        return [int(i) for i in order if scores[i] > 0]


class Retriever:
    """Searches one chunk store; the BM25 index is rebuilt only when the collection changes."""

    def __init__(self, store: ChunkStore, embedder: Embedder):
        self.store, self.embedder = store, embedder
        self._lex: _LexicalIndex | None = None
        self._lex_key: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def _lexical(self) -> _LexicalIndex:
        key = (self.store.generation, self.store.count())
        with self._lock:
            if self._lex is None or self._lex_key != key:
                self._lex = _LexicalIndex(*self.store.all_chunks())
                self._lex_key = key
            return self._lex

    def search(self, query: str, k: int = 5, where: dict | None = None) -> list[Hit]:
        if not query.strip() or self.store.count() == 0:
            return []
        pool = max(4 * k, 20)
        dense = self.store.dense(self.embedder.embed_one(query), pool, where)
        fused: dict[str, float] = {}
        chunk_info: dict[str, tuple[dict, str, float]] = {}
        for rank, (cid, text, meta, sim) in enumerate(dense):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
            chunk_info[cid] = (meta, text, sim)
        if where is None:
            lex = self._lexical()
            for rank, i in enumerate(lex.search(query, pool)):
                cid = lex.ids[i]
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
                chunk_info.setdefault(cid, (lex.metas[i], lex.texts[i], float("nan")))
        hits: dict[str, Hit] = {}
        for cid, score in sorted(fused.items(), key=lambda kv: -kv[1]):
            meta, text, sim = chunk_info[cid]
            hit = hits.get(meta["doc_id"])
            if hit is None:
                hit = hits[meta["doc_id"]] = Hit(meta["doc_id"], meta.get("title", ""), 0.0, float("-inf"))
            hit.score += score if not hit.chunks else score * 0.25
            if not np.isnan(sim):
                hit.similarity = max(hit.similarity, sim)
            hit.chunks.append((meta.get("section", ""), text))
        ranked = sorted(hits.values(), key=lambda h: -h.score)[:k]
        for h in ranked:
            if h.similarity == float("-inf"):
                h.similarity = 0.0
        return ranked
