"""Knowledge-base vectors from an OpenAI(-compatible) embeddings endpoint, when one is configured
(`SUPPORT_EMBEDDING_MODEL`); the local MiniLM stays the default and keeps serving triage.

langchain-openai's client makes the calls. Its token-length check is off: it needs tiktoken, which downloads
its tables at first use, and chunks (~900 characters) are far below any embedding model's input limit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class EmbeddingUnavailable(RuntimeError):
    """The embedding provider failed after the client's own retries: search falls back to BM25 alone."""


class OpenAIEmbedder:
    def __init__(self, model: str, api_key: str | None = None, base_url: str | None = None,
                 timeout: float = 30.0, max_retries: int = 2, batch: int = 256):
        from langchain_openai import OpenAIEmbeddings

        self.model = model
        self._client = OpenAIEmbeddings(model=model, api_key=api_key or "not-needed", base_url=base_url,
                                        timeout=timeout, max_retries=max_retries, chunk_size=batch,
                                        check_embedding_ctx_length=False)

    @property
    def name(self) -> str:
        return f"openai:{self.model}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        try:
            vecs = np.asarray(self._client.embed_documents(texts), dtype=np.float32)
        except Exception as exc:  # any provider or transport failure means the same here
            raise EmbeddingUnavailable(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        if vecs.ndim != 2 or len(vecs) != len(texts):
            raise EmbeddingUnavailable(f"{self.name}: {len(texts)} texts sent, got vectors of shape {vecs.shape}")
        return vecs / np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]
