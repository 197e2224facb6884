"""Knowledge page: add documents (upload, or a folder on the server), ingest with a progress bar,
and list what each collection holds (documents and their chunk counts)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import streamlit as st

from app.ui import common
from knowledge.ingest import IngestReport, chunk_document, ingest, read_documents

STEP = 16  # chunks embedded between progress updates
try:
    from knowledge.readers import SUPPORTED  # every format ingestion reads (HTML, PDF, …)
except ImportError:
    SUPPORTED = {".md", ".markdown", ".txt", ".json", ".jsonl"}
UPLOAD_TYPES = sorted(s.lstrip(".") for s in SUPPORTED)


class ProgressEmbedder:
    """The real embedder, called in small batches so the bar moves (ingest hands over 256 at a time)."""

    def __init__(self, inner, total: int, report: Callable[[int, int], None]):
        self.inner, self.total, self.report, self.done = inner, max(total, 1), report, 0

    def embed(self, texts):
        parts = []
        for i in range(0, len(texts), STEP):
            parts.append(self.inner.embed(texts[i : i + STEP]))
            self.done += len(texts[i : i + STEP])
            self.report(min(self.done, self.total), self.total)
        return np.vstack(parts) if parts else self.inner.embed([])

    def __getattr__(self, name):
        return getattr(self.inner, name)


def chunks_to_write(paths: list[Path], store) -> int:
    """How many chunks ingestion will embed: those of new or changed documents."""
    known = store.doc_hashes()
    return sum(len(chunk_document(d)) for d in read_documents(paths) if known.get(d.doc_id) != d.content_hash)


def run_ingest(svc, paths: list[Path], collection: str) -> IngestReport:
    store = svc.store(collection)
    bar = st.progress(0.0, text="Reading documents…")
    total = chunks_to_write(paths, store)
    embedder = ProgressEmbedder(svc.search_embedder, total,
                                lambda done, n: bar.progress(done / n, text=f"Embedding chunks: {done}/{n}"))
    report = ingest(paths, store, embedder)
    bar.progress(1.0, text=f"Done: {report.summary()}")
    return report


def save_uploads(files, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        (folder / Path(f.name).name).write_bytes(f.getvalue())
    return folder


def documents(store) -> list[dict]:
    _, _, metas = store.all_chunks()
    counts = Counter(m["doc_id"] for m in metas)
    first = {}
    for m in metas:
        first.setdefault(m["doc_id"], m)
    return [{"doc_id": d, "title": first[d].get("title"), "chunks": n, "source": first[d].get("source"),
             "ingested_at": first[d].get("ingested_at")} for d, n in sorted(counts.items())]


def _ingest(svc, paths: list[Path], collection: str) -> None:
    try:
        report = run_ingest(svc, paths, collection)
    except (FileNotFoundError, ValueError) as exc:
        common.flash(f"Ingestion failed: {exc}")
        return
    common.flash(f"Ingested into {collection}: {report.summary()}", "success")
    for s in report.skipped:
        common.flash(f"Skipped {s}", "warning")


def render() -> None:
    svc = common.current_desk().services
    st.title("Knowledge")
    common.show_flash()
    names = sorted({c.name if hasattr(c, "name") else str(c) for c in svc.chroma.list_collections()}
                   | {svc.settings.collection})
    collection = st.selectbox("Collection", names, index=names.index(svc.settings.collection), key="kb-collection")

    st.subheader("Add documents")
    files = st.file_uploader("Upload files", type=UPLOAD_TYPES, accept_multiple_files=True, key="kb-upload")
    if st.button("Ingest uploaded files", key="kb-ingest-upload", disabled=not files):
        _ingest(svc, [save_uploads(files, svc.settings.data_dir / "uploads" / collection)], collection)
        st.rerun()
    folder = st.text_input("…or a folder (or file) on the server", key="kb-folder", placeholder="knowledge/sample")
    if st.button("Ingest folder", key="kb-ingest-folder"):
        if not folder.strip():
            common.flash("Enter a folder or file path to ingest.")
        else:
            _ingest(svc, [Path(folder.strip()).expanduser()], collection)
        st.rerun()

    docs = documents(svc.store(collection))
    st.subheader(f"{len(docs)} documents, {sum(d['chunks'] for d in docs)} chunks in {collection}")
    st.dataframe(docs, hide_index=True)


if __name__ == "__main__":
    render()
