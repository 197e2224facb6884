"""Chroma access: embedded PersistentClient by default, HttpClient when a server is configured.

Collections are created without a Chroma embedding function: we always pass vectors from
our own local model, so Chroma never tries to download one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import chromadb

_local_writes: dict[str, int] = {}  # by collection name; a same-named collection elsewhere only costs a recount
_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]$")


def validate_collection_name(name: str) -> str:
    if not _NAME_RE.match(name or ""):
        raise ValueError(
            f"invalid collection name {name!r}: use 3-512 characters from letters, digits, '.', '_' and '-',"
            " starting and ending with a letter or digit"
        )
    return name


def make_client(chroma_dir: Path, host: str | None = None, port: int | None = None):
    settings = chromadb.Settings(anonymized_telemetry=False)
    if host:
        return chromadb.HttpClient(host=host, port=port or 8000, settings=settings)
    chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(chroma_dir), settings=settings)


class EmbedderMismatch(ValueError):
    pass


class ChunkStore:
    """One Chroma collection of chunks; each chunk's metadata carries its document id and hash."""

    def __init__(self, client, name: str):
        self.name = validate_collection_name(name)
        self.client = client
        self.col = client.get_or_create_collection(
            self.name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )

    def count(self) -> int:
        return self.col.count()

    def metadata(self) -> dict[str, Any]:
        """The collection's metadata as stored now (this handle's copy predates other processes' writes)."""
        return dict(self.client.get_collection(self.name, embedding_function=None).metadata or {})

    def bump_generation(self) -> None:
        """The collection's `generation` changes on every write, so other processes' lexical indexes rebuild."""
        meta = self.metadata()
        self.col.modify(metadata={**meta, "generation": int(meta.get("generation", 0)) + 1})
        self._wrote()

    def check_embedder(self, name: str | None, claim: bool = False, meta: dict | None = None) -> None:
        """Vectors of different models must never share a collection: its first writer records its model."""
        meta = self.metadata() if meta is None else meta
        have = meta.get("embedder")
        if name and have and have != name:
            raise EmbedderMismatch(
                f"collection {self.name!r} holds vectors from {have}, not {name}: search it with the model it was "
                "built with (SUPPORT_EMBEDDING_MODEL) or ingest into another collection")
        if name and claim and not have:
            self.col.modify(metadata={**meta, "embedder": name})

    @property
    def local_writes(self) -> int:
        """Writes to a collection of this name made by this process: readers here see them at once."""
        return _local_writes.get(self.name, 0)

    def _wrote(self) -> None:
        _local_writes[self.name] = _local_writes.get(self.name, 0) + 1

    def doc_hashes(self) -> dict[str, str]:
        got = self.col.get(include=["metadatas"])
        return {m["doc_id"]: m["content_hash"] for m in got["metadatas"] or []}

    def delete_docs(self, doc_ids: list[str]) -> None:
        for i in range(0, len(doc_ids), 500):
            self.col.delete(where={"doc_id": {"$in": doc_ids[i : i + 500]}})
        self._wrote()

    def add(self, ids: list[str], vectors, texts: list[str], metas: list[dict[str, Any]]) -> None:
        step = 1000
        for i in range(0, len(ids), step):
            self.col.upsert(
                ids=ids[i : i + step],
                embeddings=[list(map(float, v)) for v in vectors[i : i + step]],
                documents=texts[i : i + step],
                metadatas=metas[i : i + step],
            )
        self._wrote()

    def all_chunks(self) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        got = self.col.get(include=["documents", "metadatas"])
        return got["ids"], got["documents"] or [], got["metadatas"] or []

    def dense(self, vectors, n: int, where: dict | None = None) -> list[list[tuple[str, float]]]:
        """Nearest chunk ids and cosines for several query vectors in one Chroma call.

        Only ids and distances: the caller holds every chunk's text and metadata in its lexical index
        already, and fetching them from Chroma took half of a query's search time at 10k chunks.
        """
        if n <= 0 or len(vectors) == 0:
            return [[] for _ in vectors]
        res = self.col.query(query_embeddings=[list(map(float, v)) for v in vectors], n_results=n, where=where,
                             include=["distances"])
        return [[(cid, 1.0 - dist) for cid, dist in zip(ids, dists, strict=True)]
                for ids, dists in zip(res["ids"], res["distances"], strict=True)]
