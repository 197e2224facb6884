"""Knowledge page: what each collection holds (documents and their chunk counts) for the team, and, for a signed-in
knowledge editor only, adding documents (upload, or a folder on the server), replacing and deleting them.

Every change goes through app/knowledge_ops.py with the sidebar's signed-in person, which checks the role, the
server folders allowed and explicit replaces, and audits; the page only decides which controls to draw. Without the
role it draws none: a control that exists but refuses still invites the attempt.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from app import knowledge_ops as ops
from app.ui import common, labels
from knowledge.readers import SUPPORTED

UPLOAD_TYPES = sorted(s.lstrip(".") for s in SUPPORTED)


def documents(store) -> list[dict]:
    _, _, metas = store.all_chunks()
    counts = Counter(m["doc_id"] for m in metas)
    first = {}
    for m in metas:
        first.setdefault(m["doc_id"], m)
    return [{"doc_id": d, "title": first[d].get("title"), "chunks": n, "source": first[d].get("source"),
             "ingested_at": first[d].get("ingested_at")} for d, n in sorted(counts.items())]


def _run(action: Callable[[ops.Progress], ops.Change]) -> None:
    """Run one gated change with a progress bar; its outcome (or why it was refused) shows after the rerun."""
    bar = st.progress(0.0, text="Reading documents…")
    try:
        change = action(lambda done, n: bar.progress(done / n, text=f"Embedding chunks: {done}/{n}"))
    except (ops.KnowledgeError, FileNotFoundError, ValueError) as exc:
        common.flash(f"Refused: {exc}" if isinstance(exc, ops.KnowledgeError) else f"Ingestion failed: {exc}")
        return
    bar.progress(1.0, text=f"Done: {change.report.summary()}")
    replaced = f" (replaced {', '.join(change.replaced)})" if change.replaced else ""
    common.flash(f"Ingested into {change.collection}: {change.report.summary()}{replaced}", "success")
    for s in change.report.skipped:
        common.flash(f"Skipped {s}", "warning")


def _access(svc) -> str | None:
    """Why the signed-in person may not change the knowledge base (None: they may)."""
    try:
        ops.require_editor(svc.settings, common.identity())
    except ops.KnowledgeAccessError as exc:
        return str(exc)
    return None


def _add(svc, collection: str) -> None:
    who = common.identity()
    st.subheader("Add documents")
    files = st.file_uploader("Upload files", type=UPLOAD_TYPES, accept_multiple_files=True, key="kb-upload")
    uploads = [(f.name, f.getvalue()) for f in files or []]
    clashes = ops.upload_conflicts(svc, uploads, collection) if uploads else []
    replace = False
    if clashes:
        st.warning(f"Already in {collection}: {', '.join(clashes)}. Uploading replaces what customers are told; "
                   "it is recorded in the audit trail with your id.")
        replace = st.checkbox("Replace the existing document(s)", key="kb-replace")
    if st.button("Ingest uploaded files", key="kb-ingest-upload", disabled=not uploads):
        _run(lambda progress: ops.upload(svc, who, uploads, collection, replace=replace, progress=progress))
        st.rerun()
    roots = ", ".join(str(r) for r in ops.roots(svc.settings))
    folder = st.text_input("…or a folder (or file) on the server", key="kb-folder", placeholder="knowledge/sample",
                           help=f"Only inside the knowledge roots: {roots} (SUPPORT_KNOWLEDGE_ROOTS).")
    if st.button("Ingest folder", key="kb-ingest-folder"):
        if not folder.strip():
            common.flash("Enter a folder or file path to ingest.")
        else:
            _run(lambda progress: ops.ingest_paths(svc, who, [Path(folder.strip())], collection, progress=progress))
        st.rerun()


def _delete(svc, collection: str, docs: list[dict]) -> None:
    st.subheader("Delete documents")
    chosen = st.multiselect("Documents to delete", [d["doc_id"] for d in docs], key="kb-delete-ids")
    if st.button("Delete selected", key="kb-delete", disabled=not chosen):
        try:
            change = ops.delete(svc, common.identity(), chosen, collection)
        except ops.KnowledgeError as exc:
            common.flash(f"Refused: {exc}")
        else:
            common.flash(f"Deleted from {collection}: {', '.join(change.deleted)}", "success")
        st.rerun()


def render() -> None:
    svc = common.current_desk().services
    st.title("Knowledge")
    common.show_flash()
    names = sorted({c.name if hasattr(c, "name") else str(c) for c in svc.chroma.list_collections()}
                   | {svc.settings.collection})
    collection = st.selectbox("Collection", names, index=names.index(svc.settings.collection), key="kb-collection")
    refused = _access(svc)
    if refused:
        st.info(f"Adding, replacing and deleting documents is for knowledge editors: sign in (sidebar) as a team "
                f"member with the `{ops.ROLE}` role. The desk quotes these documents to customers, so every change "
                f"is recorded with the editor's id. ({refused})")
    else:
        _add(svc, collection)
    docs = documents(svc.store(collection))
    st.subheader(f"{len(docs)} documents, {sum(d['chunks'] for d in docs)} chunks in {collection}")
    st.dataframe([{labels.column(k): v for k, v in d.items()} for d in docs], hide_index=True)
    if not refused and docs:
        _delete(svc, collection, docs)


if __name__ == "__main__":
    render()
