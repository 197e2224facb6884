"""Reading and chunking the help centre (knowledge/readers.py, knowledge/ingest.py's chunking) without a store or the
embedding model. Ingestion, retrieval and formats on real Chroma are tests/integration/test_knowledge.py and
tests/integration/test_knowledge_formats.py."""

from __future__ import annotations

import json

from knowledge.ingest import CHUNK_CHARS, Document, chunk_document
from knowledge.readers import read_documents
from tests.helpers import SAMPLE_KB


def test_sample_kb_is_complete():
    docs = sorted(p.name for p in SAMPLE_KB.glob("*.md"))
    assert len(docs) >= 15
    for required in ("password-reset.md", "refunds-and-returns.md", "shipping-options.md"):
        assert required in docs


def test_chunks_follow_headings():
    doc = Document("a.md", "A", "# A\n## First\nOne. Two.\n## Second\nThree.", "a.md")
    assert chunk_document(doc) == [("First", "One. Two."), ("Second", "Three.")]


def test_sample_html_and_pdf_are_read_with_titles_and_sections():
    docs = {d.doc_id: d for d in read_documents([SAMPLE_KB])}
    html, pdf = docs["gift-cards.html"], docs["brightwave-care.pdf"]
    assert html.title == "Gift cards" and "## Redeeming a gift card" in html.text
    assert "analytics" not in html.text and "Help centre" not in html.text  # script and nav dropped
    assert pdf.title == "Brightwave Care protection plan" and "29 dollars" in pdf.text
    sections = {s for s, _ in chunk_document(html)}
    assert {"Redeeming a gift card", "Checking your balance"} <= sections


def test_records_file_and_folder_bad_lines_are_reported(tmp_path):
    (tmp_path / "a.jsonl").write_text(
        json.dumps({"id": "r1", "title": "One", "content": "First record."}) + "\n{broken\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.json").write_text(json.dumps([{"id": "r2", "title": "Two", "content": "Second."},
                                                        {"id": "r3", "content": "Third, no title."}]))
    (tmp_path / "sub" / "c.md").write_text("# Cee\nText.")
    (tmp_path / "d.pdf").write_bytes(b"not a pdf")
    skipped: list[str] = []
    docs = {d.doc_id: d for d in read_documents([tmp_path], skipped)}
    assert set(docs) == {"r1", "r2", "r3", "sub/c.md"}  # record ids; relative paths for files
    assert docs["r3"].title == "r3"
    assert any("a.jsonl" in s and "line 2" in s for s in skipped)
    assert any("d.pdf" in s for s in skipped)


def test_chunks_respect_headings_and_overlap():
    sentences = [f"Sentence number {i} talks about topic {i} in some detail." for i in range(60)]
    text = "# Doc\n## Long\n" + " ".join(sentences) + "\n## Short\nOnly this."
    chunks = chunk_document(Document("d.md", "Doc", text, "d.md"))
    long = [c for s, c in chunks if s == "Long"]
    assert len(long) > 2 and chunks[-1] == ("Short", "Only this.")
    assert all(len(c) <= CHUNK_CHARS + 60 for c in long)
    for a, b in zip(long, long[1:], strict=False):
        first = b.split(". ", 1)[0] + "."
        assert a.endswith(first) or f"{first} " in a, "the next chunk opens with the previous one's tail"
