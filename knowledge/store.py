"""Chroma access: embedded PersistentClient by default, HttpClient when a server is configured.

Collections are created without a Chroma embedding function: we always pass vectors from
our own local model, so Chroma never tries to download one.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import chromadb

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

    @property
    def generation(self) -> int:
        """Bumped on every write, so other processes' lexical indexes know to rebuild."""
        return int((self.col.metadata or {}).get("generation", 0))

    def bump_generation(self) -> None:
        self.col.modify(metadata={"generation": self.generation + 1})

    def doc_hashes(self) -> dict[str, str]:
        got = self.col.get(include=["metadatas"])
        return {m["doc_id"]: m["content_hash"] for m in got["metadatas"] or []}

    def delete_docs(self, doc_ids: list[str]) -> None:
        for i in range(0, len(doc_ids), 500):
            self.col.delete(where={"doc_id": {"$in": doc_ids[i : i + 500]}})

    def add(self, ids: list[str], vectors, texts: list[str], metas: list[dict[str, Any]]) -> None:
        step = 1000
        for i in range(0, len(ids), step):
            self.col.upsert(
                ids=ids[i : i + step],
                embeddings=[list(map(float, v)) for v in vectors[i : i + step]],
                documents=texts[i : i + step],
                metadatas=metas[i : i + step],
            )

    def all_chunks(self) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        got = self.col.get(include=["documents", "metadatas"])
        return got["ids"], got["documents"] or [], got["metadatas"] or []

    def dense(self, vector, n: int, where: dict | None = None) -> list[tuple[str, str, dict, float]]:
        return self.dense_many([vector], n, where)[0]

    def dense_many(self, vectors, n: int, where: dict | None = None) -> list[list[tuple[str, str, dict, float]]]:
        """Nearest chunks for several query vectors in one Chroma call: (id, text, metadata, cosine)."""
        n = min(n, self.count())
        if n == 0 or len(vectors) == 0:
            return [[] for _ in vectors]
        res = self.col.query(
            query_embeddings=[list(map(float, v)) for v in vectors],
            n_results=n,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            [(cid, doc, meta, 1.0 - dist) for cid, doc, meta, dist in zip(*cols)]
            for cols in zip(res["ids"], res["documents"], res["metadatas"], res["distances"])
        ]
