"""Knowledge layer on real Chroma: ingestion, incremental updates, retrieval."""

from __future__ import annotations

import json

from knowledge.ingest import ingest
from tests.helpers import ROOT


def test_incremental_ingest_and_prune(services, tmp_path):
    src = tmp_path / "kb"
    src.mkdir()
    (src / "a.md").write_text("# Alpha\n## Part\nAlpha widgets are blue and ship in 3 days.")
    (src / "b.txt").write_text("Beta gadgets need charging every night.")
    (src / "c.json").write_text(json.dumps({"id": "rec-1", "title": "Gamma", "content": "Gamma boxes fold flat."}))
    (src / "skip.bin").write_bytes(b"\x00\x01")
    store = services.store("test-incremental")
    first = ingest([src], store, services.embedder)
    assert (first.added, first.updated, first.unchanged) == (3, 0, 0)
    assert any("skip.bin" in s for s in first.skipped)
    assert ingest([src], store, services.embedder).unchanged == 3
    (src / "a.md").write_text("# Alpha\n## Part\nAlpha widgets are now green.")
    (src / "b.txt").unlink()
    third = ingest([src], store, services.embedder, prune=True)
    assert (third.updated, third.deleted, third.unchanged) == (1, 1, 1)
    hits = services.retriever("test-incremental").search("what colour are alpha widgets", k=3)
    assert hits[0].doc_id == "a.md" and "green" in hits[0].chunks[0][1]
    assert {h.doc_id for h in hits} <= {"a.md", "rec-1"}


def test_retrieval_on_fixture_queries(services):
    lines = (ROOT / "tests" / "fixtures" / "retrieval_queries.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines if line]
    retriever = services.retriever()
    hit = sum(bool(set(r["relevant"]) & {h.doc_id for h in retriever.search(r["query"], k=5)}) for r in rows)
    assert hit / len(rows) >= 0.8
