"""Hybrid retrieval: dense (Chroma) + lexical (BM25) per sub-query, fused by weighted reciprocal rank,
aggregated to distinct documents, with the same metadata filter on both sides."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from knowledge.embeddings import Embedder
from knowledge.lexical import LexicalIndex
from knowledge.store import ChunkStore


@dataclass(frozen=True)
class Tuning:
    """Fusion knobs (tuned on tests/fixtures/banking_dev_queries.jsonl, dev split only)."""

    rrf_k: int = 10  # small: a sub-query's top documents must stand out from its tail
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    first_query_weight: float = 1.5  # the whole message; later sub-queries are its parts
    sub_query_weight: float = 1.0
    extra_chunk_weight: float = 0.25  # a document's 2nd, 3rd... chunk adds this share of its score
    sum_weight: float = 0.3  # across sub-queries: best score + this share of the summed scores
    pool: int = 20  # chunks taken from each side for each sub-query


@dataclass
class Hit:
    doc_id: str
    title: str
    score: float
    similarity: float
    chunks: list[tuple[str, str]] = field(default_factory=list)  # (section, text), best first


RECHECK_S = 1.0  # how stale another process's writes may look; a Chroma count costs ~2 ms at 10k chunks


class Retriever:
    """Searches one chunk store. The BM25 index, which also holds every chunk's text and metadata, is
    rebuilt when the collection changes: at once for writes made in this process, within RECHECK_S for
    writes made by others."""

    def __init__(self, store: ChunkStore, embedder: Embedder, tuning: Tuning | None = None):
        self.store, self.embedder = store, embedder
        self.tuning = tuning or Tuning()
        self._lex: LexicalIndex | None = None
        self._lex_key: tuple[int, int] | None = None
        self._seen: tuple[int, float] = (-1, -math.inf)  # (local writes, monotonic time) at the last check
        self._lock = threading.Lock()

    def lexical(self) -> LexicalIndex:
        with self._lock:
            local, now = self.store.local_writes, time.monotonic()
            if self._lex is None or local != self._seen[0] or now - self._seen[1] >= RECHECK_S:
                self._seen = (local, now)
                meta = self.store.metadata()
                self.store.check_embedder(getattr(self.embedder, "name", None), meta=meta)
                key = (int(meta.get("generation", 0)), self.store.count())
                if self._lex is None or self._lex_key != key:
                    self._lex = LexicalIndex(*self.store.all_chunks())
                    self._lex_key = key
            return self._lex

    def query_vectors(self, queries: list[str]):
        """The whole message first, then its parts: pooled from one pass when the embedder can."""
        if len(queries) > 1 and hasattr(self.embedder, "embed_message"):
            return self.embedder.embed_message(queries[0], queries[1:])
        return self.embedder.embed(queries)

    def search(
        self,
        query: str | Sequence[str],
        k: int = 5,
        where: dict | None = None,
        min_similarity: float | None = None,
        dense: bool = True,
    ) -> list[Hit]:
        """`query` may be several sub-queries (the whole message first); their rankings are fused.

        `where` uses Chroma's filter syntax and restricts both the dense and the lexical side.
        With `min_similarity`, nothing is returned unless some retrieved chunk is at least that similar
        to a sub-query: an empty result means "not in the knowledge base". `dense=False` searches BM25
        alone (the embedding provider is down), where similarity cannot be measured and is not checked.
        """
        queries = [q for q in ([query] if isinstance(query, str) else list(query)) if q and q.strip()]
        if not queries:
            return []
        t = self.tuning
        lex = self.lexical()
        if not lex.ids:
            return []
        mask = lex.mask(where)
        info: dict[str, tuple[dict, str]] = {}
        sims: dict[str, float] = {}
        per_query: list[dict[str, float]] = []
        if dense:
            dense_hits = self.store.dense(self.query_vectors(queries), min(t.pool, len(lex.ids)), where)
        else:
            dense_hits, min_similarity = [[] for _ in queries], None
        for q, nearest in zip(queries, dense_hits, strict=True):
            fused: dict[str, float] = {}
            for rank, (cid, sim) in enumerate(nearest):
                i = lex.index.get(cid)
                if i is None:  # written by another process since the index was built: seen after the recheck
                    continue
                fused[cid] = fused.get(cid, 0.0) + t.dense_weight / (t.rrf_k + rank + 1)
                info[cid] = (lex.metas[i], lex.texts[i])
                sims[cid] = max(sims.get(cid, -1.0), sim)
            for rank, i in enumerate(lex.search(q, t.pool, mask)):
                cid = lex.ids[i]
                fused[cid] = fused.get(cid, 0.0) + t.lexical_weight / (t.rrf_k + rank + 1)
                info.setdefault(cid, (lex.metas[i], lex.texts[i]))
            per_query.append(self._doc_scores(fused, info))
        if min_similarity is not None and max(sims.values(), default=-math.inf) < min_similarity:
            return []
        return self._combine(per_query, info, sims, k)

    def _doc_scores(self, fused: dict[str, float], info) -> dict[str, float]:
        """A document scores its best chunk plus a share of its other chunks."""
        docs: dict[str, float] = {}
        for cid, score in sorted(fused.items(), key=lambda kv: -kv[1]):
            d = info[cid][0]["doc_id"]
            docs[d] = docs[d] + score * self.tuning.extra_chunk_weight if d in docs else score
        return docs

    def _combine(self, per_query: list[dict[str, float]], info, sims, k: int) -> list[Hit]:
        """Across sub-queries: the best per-query score (each need gets its documents) plus a share of the sum."""
        t = self.tuning
        total: dict[str, float] = {}
        best: dict[str, float] = {}
        for qi, docs in enumerate(per_query):
            w = t.first_query_weight if qi == 0 else t.sub_query_weight
            for d, s in docs.items():
                total[d] = total.get(d, 0.0) + w * s
                best[d] = max(best.get(d, 0.0), w * s)
        score = {d: best[d] + t.sum_weight * total[d] for d in total}
        hits: dict[str, Hit] = {}
        for cid in sorted(info, key=lambda c: -sims.get(c, -1.0)):
            meta, text = info[cid]
            d = meta["doc_id"]
            if d not in score:
                continue
            hit = hits.setdefault(d, Hit(d, meta.get("title", ""), score[d], sims.get(cid, 0.0)))
            hit.chunks.append((meta.get("section", ""), text))
        return sorted(hits.values(), key=lambda h: -h.score)[:k]
