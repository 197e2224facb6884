"""Ingestion: read documents, chunk along their structure, embed, upsert incrementally."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from knowledge.embeddings import Embedder
from knowledge.pii import redact
from knowledge.readers import Document, read_documents
from knowledge.store import ChunkStore
from knowledge.text import split_sentences

CHUNK_CHARS = 900
OVERLAP_CHARS = 150  # at most this much of a chunk's tail (whole sentences) opens the next one
EMBED_BATCH = 128


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    chunks: int = 0
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, {self.deleted} deleted; "
            f"{self.chunks} chunks written; {len(self.skipped)} skipped; {self.seconds:.1f}s"
        )


def _sections(text: str) -> list[tuple[str, list[list[str]]]]:
    """(heading, paragraphs as sentence lists); text before the first heading has heading ''."""
    parts: list[tuple[str, list[list[str]]]] = []
    heading, paras, buf = "", [], []

    def flush_para():
        if buf:
            sentences = split_sentences("\n".join(buf))
            if sentences:
                paras.append(sentences)
            buf.clear()

    for line in text.splitlines():
        m = re.match(r"^#{1,6}\s+(.*)", line)
        if m:
            flush_para()
            if paras:
                parts.append((heading, paras))
            heading, paras = m.group(1).strip(), []
        elif not line.strip():
            flush_para()
        else:
            buf.append(line)
    flush_para()
    if paras:
        parts.append((heading, paras))
    return parts


def _overlap(sentences: list[str]) -> list[str]:
    tail: list[str] = []
    for s in reversed(sentences):
        if sum(len(x) + 1 for x in tail) + len(s) > OVERLAP_CHARS:
            break
        tail.insert(0, s)
    return tail


def chunk_document(doc: Document, size: int | None = None) -> list[tuple[str, str]]:
    """(section, text) chunks of about `size` characters that never straddle a heading.

    Sentences are packed whole; a chunk more than half full ends at a paragraph break rather
    than splitting the next paragraph; consecutive chunks share up to OVERLAP_CHARS of sentences.
    """
    size = size or CHUNK_CHARS
    chunks: list[tuple[str, str]] = []
    for heading, paragraphs in _sections(doc.text):
        cur: list[str] = []
        fresh = 0  # sentences in `cur` not carried over from the previous chunk
        for para in paragraphs:
            if fresh and sum(len(x) + 1 for x in cur) > size // 2:
                chunks.append((heading, " ".join(cur)))
                cur, fresh = _overlap(cur), 0
            for s in para:
                if fresh and sum(len(x) + 1 for x in cur) + len(s) > size:
                    chunks.append((heading, " ".join(cur)))
                    cur, fresh = _overlap(cur), 0
                cur.append(s)
                fresh += 1
        if fresh:
            chunks.append((heading, " ".join(cur)))
    return chunks or [("", doc.text.strip())]


def embedding_text(title: str, section: str, text: str) -> str:
    """Chunks are embedded with their document title and section heading: the context they lose."""
    return ". ".join(p for p in (title, section, text) if p)


def ingest(
    paths: Iterable[str | Path],
    store: ChunkStore,
    embedder: Embedder,
    prune: bool = False,
    progress: bool = False,
    within: Iterable[Path] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Skip documents whose content hash is stored, re-chunk changed ones, optionally drop vanished ones.

    `progress` draws a terminal bar; `on_progress(done, total)` reports embedded chunks to a UI's bar. `within`
    fences what is read (see `read_documents`); who may ingest what is the caller's to decide (app/knowledge_ops.py
    for every door of the application)."""
    start = time.perf_counter()
    report = IngestReport()
    docs = list(read_documents(paths, report.skipped, within))
    seen: dict[str, str] = {}
    for d in docs:
        if d.doc_id in seen:
            report.skipped.append(f"{d.source}: duplicate document id {d.doc_id!r} (first in {seen[d.doc_id]})")
        seen.setdefault(d.doc_id, d.source)
    docs = list({d.doc_id: d for d in reversed(docs)}.values())[::-1]  # first occurrence wins
    store.check_embedder(getattr(embedder, "name", None), claim=True)  # before anything is written
    known = store.doc_hashes()
    todo = [d for d in docs if known.get(d.doc_id) != d.content_hash]
    report.unchanged = len(docs) - len(todo)
    changed = [d.doc_id for d in todo if d.doc_id in known]
    report.updated, report.added = len(changed), len(todo) - len(changed)
    if changed:
        store.delete_docs(changed)
    if prune:
        gone = sorted(set(known) - {d.doc_id for d in docs})
        if gone:
            store.delete_docs(gone)
        report.deleted = len(gone)

    ids, texts, embed_texts, metas = [], [], [], []
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for d in todo:
        for i, (heading, raw) in enumerate(chunk_document(d)):
            # Personal data never reaches the vector store (or an embedding provider): headings are quoted as
            # sections like the text is; ids, titles and sources were redacted as they were read.
            text, section = redact(raw), redact(heading)
            ids.append(f"{d.doc_id}#{i}")
            texts.append(text)
            embed_texts.append(embedding_text(d.title, section, text))
            metas.append({"doc_id": d.doc_id, "title": d.title, "section": section, "source": d.source,
                          "content_hash": d.content_hash, "ingested_at": now})
    if ids:
        # Embed shortest first: batches of similar length waste little on padding.
        order = sorted(range(len(ids)), key=lambda i: len(embed_texts[i]))
        vectors: list = [None] * len(ids)
        with tqdm(total=len(ids), desc="embedding", unit="chunk", disable=not progress) as bar:
            for b in range(0, len(order), EMBED_BATCH):
                part = order[b : b + EMBED_BATCH]
                for i, vec in zip(part, embedder.embed([embed_texts[i] for i in part]), strict=True):
                    vectors[i] = vec
                bar.update(len(part))
                if on_progress is not None:
                    on_progress(min(b + EMBED_BATCH, len(order)), len(order))
        store.add(ids, vectors, texts, metas)
    if ids or report.deleted or changed:
        store.bump_generation()
    report.chunks = len(ids)
    report.seconds = time.perf_counter() - start
    return report
