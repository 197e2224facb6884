"""Reading and chunking the help centre (knowledge/readers.py, knowledge/ingest.py's chunking) without a store or the
embedding model. Ingestion, retrieval and formats on real Chroma are tests/integration/test_knowledge.py and
tests/integration/test_knowledge_formats.py."""

from __future__ import annotations

from knowledge.ingest import Document, chunk_document
from tests.helpers import SAMPLE_KB


def test_sample_kb_is_complete():
    docs = sorted(p.name for p in SAMPLE_KB.glob("*.md"))
    assert len(docs) >= 15
    for required in ("password-reset.md", "refunds-and-returns.md", "shipping-options.md"):
        assert required in docs


def test_chunks_follow_headings():
    doc = Document("a.md", "A", "# A\n## First\nOne. Two.\n## Second\nThree.", "a.md")
    assert chunk_document(doc) == [("First", "One. Two."), ("Second", "Three.")]
