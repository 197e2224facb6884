"""Ingestion: read documents, chunk along their structure, embed, upsert incrementally."""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from tqdm import tqdm

from agents.pii import redact
from knowledge.embeddings import Embedder
from knowledge.store import ChunkStore
from knowledge.text import split_sentences

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
RECORD_SUFFIXES = {".json", ".jsonl"}
CHUNK_CHARS = 900
OVERLAP_SENTENCES = 1


@dataclass
class Document:
    doc_id: str
    title: str
    text: str
    source: str

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.title}\n{self.text}".encode()).hexdigest()


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


def _title_of(text: str, fallback: str) -> str:
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return fallback


def _records(path: Path) -> Iterator[dict]:
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        for n, line in enumerate(raw.splitlines(), 1):
            if line.strip():
                yield json.loads(line)
        return
    data = json.loads(raw)
    yield from (data if isinstance(data, list) else [data])


def read_documents(paths: Iterable[str | Path], skipped: list[str] | None = None) -> Iterator[Document]:
    """Markdown/text files (id = path relative to the root given) and JSON records `{id, title, content}`."""
    skipped = skipped if skipped is not None else []
    for root in map(Path, paths):
        if not root.exists():
            raise FileNotFoundError(f"no such file or folder: {root}")
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for f in files:
            rel = f.relative_to(root).as_posix() if root.is_dir() else f.name
            suffix = f.suffix.lower()
            try:
                if suffix in TEXT_SUFFIXES:
                    text = f.read_text(encoding="utf-8")
                    if text.strip():
                        yield Document(rel, _title_of(text, f.stem.replace("-", " ")), text, str(f))
                elif suffix in RECORD_SUFFIXES:
                    for rec in _records(f):
                        if not isinstance(rec, dict) or not rec.get("id") or not rec.get("content"):
                            raise ValueError("records need 'id' and 'content'")
                        yield Document(str(rec["id"]), str(rec.get("title") or rec["id"]), str(rec["content"]), str(f))
                else:
                    skipped.append(f"{f}: unsupported file type")
            except (UnicodeDecodeError, ValueError) as exc:
                skipped.append(f"{f}: {exc}")


def _sections(text: str) -> list[tuple[str, str]]:
    """Split markdown into (heading, body) pairs; text before the first heading has heading ''."""
    parts: list[tuple[str, str]] = []
    heading, buf = "", []
    for line in text.splitlines():
        m = re.match(r"^#{1,6}\s+(.*)", line)
        if m:
            if "".join(buf).strip():
                parts.append((heading, "\n".join(buf).strip()))
            heading, buf = m.group(1).strip(), []
        else:
            buf.append(line)
    if "".join(buf).strip():
        parts.append((heading, "\n".join(buf).strip()))
    return parts


def chunk_document(doc: Document) -> list[tuple[str, str]]:
    """(section, text) chunks: paragraphs packed to ~CHUNK_CHARS within a section, one sentence of overlap."""
    chunks: list[tuple[str, str]] = []
    for heading, body in _sections(doc.text):
        sentences = split_sentences(body)
        cur: list[str] = []
        for s in sentences:
            if cur and sum(len(x) + 1 for x in cur) + len(s) > CHUNK_CHARS:
                chunks.append((heading, " ".join(cur)))
                cur = cur[-OVERLAP_SENTENCES:] if OVERLAP_SENTENCES else []
            cur.append(s)
        if cur:
            chunks.append((heading, " ".join(cur)))
    return chunks or [("", doc.text.strip())]


def ingest(
    paths: Iterable[str | Path],
    store: ChunkStore,
    embedder: Embedder,
    prune: bool = False,
    progress: bool = False,
) -> IngestReport:
    start = time.perf_counter()
    report = IngestReport()
    docs = list(read_documents(paths, report.skipped))
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
        for i, (section, raw) in enumerate(chunk_document(d)):
            text = redact(raw)  # personal data never reaches the vector store
            ids.append(f"{d.doc_id}#{i}")
            texts.append(text)
            embed_texts.append(f"{d.title}. {section}. {text}" if section else f"{d.title}. {text}")
            metas.append({"doc_id": d.doc_id, "title": d.title, "section": section, "source": d.source,
                          "content_hash": d.content_hash, "ingested_at": now})
    if ids:
        batch = 256
        vectors = []
        for i in tqdm(range(0, len(embed_texts), batch), desc="embedding", unit="batch", disable=not progress):
            vectors.extend(embedder.embed(embed_texts[i : i + batch]))
        store.add(ids, vectors, texts, metas)
    if ids or report.deleted or changed:
        store.bump_generation()
    report.chunks = len(ids)
    report.seconds = time.perf_counter() - start
    return report
