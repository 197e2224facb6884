"""An LRU cache in front of the sentence embedder.

A turn embeds the message for triage, again for retrieval, and the candidate knowledge-base
sentences for the extractive answer; the same sentences come back turn after turn. On 2 CPU
cores embedding is most of a turn's time, so each distinct text is embedded once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np


class CachedEmbedder:
    def __init__(self, inner: Any, maxsize: int = 8192):
        self.inner, self.maxsize = inner, maxsize
        self._cache: OrderedDict[str | tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def __getattr__(self, name: str) -> Any:  # dim, name, _load … of the wrapped embedder
        return getattr(self.inner, name)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return self.inner.embed(texts)
        with self._lock:
            found = {t: self._cache[t] for t in dict.fromkeys(texts) if t in self._cache}
            for t in found:
                self._cache.move_to_end(t)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            for t, v in zip(missing, self.inner.embed(missing), strict=True):
                found[t] = v
            self._put({t: found[t] for t in missing})
        with self._lock:
            self.hits += len(texts) - len(missing)
            self.misses += len(missing)
        return np.stack([found[t] for t in texts]).astype(np.float32, copy=False)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def embed_message(self, text: str, parts: Sequence[str]) -> np.ndarray:
        """Cached as one entry: pooled part vectors depend on the message around them."""
        if not hasattr(self.inner, "embed_message"):  # e.g. a provider's model: each text on its own
            return self.embed([text, *parts])
        key = ("message", text, *parts)
        with self._lock:
            vecs = self._cache.get(key)
            if vecs is not None:
                self._cache.move_to_end(key)
                self.hits += 1
                return vecs
        vecs = self.inner.embed_message(text, parts)
        with self._lock:
            self.misses += 1
        self._put({key: vecs})
        return vecs

    def _put(self, entries: dict) -> None:
        with self._lock:
            self._cache.update(entries)
            while len(self._cache) > self.maxsize:
                self._cache.popitem(last=False)


_shared: dict[int, CachedEmbedder] = {}


def cached(inner: Any) -> CachedEmbedder:
    """One cache per wrapped embedder (the process-wide model)."""
    if isinstance(inner, CachedEmbedder):
        return inner
    return _shared.setdefault(id(inner), CachedEmbedder(inner))
