"""Ids, titles, headings' documents and sources come out of the readers without personal data, and ids stay stable
and unique (they are how ingestion recognises a document it has seen)."""

from __future__ import annotations

import json

from knowledge.pii import redact
from knowledge.readers import read_documents, redact_id, redact_path

RAW = ("jane.roe", "4111", "DE89")


def test_clean_ids_are_left_alone():
    for doc_id in ("refunds-and-returns.md", "faq/shipping.html", "rec-1", "doc_bank_accounts_(general)_001.json",
                   "order-2024-01-15.md", "v1.2/readme"):
        assert redact_id(doc_id) == doc_id


def test_redacted_ids_keep_their_suffix_and_stay_stable_and_unique():
    jane, joe = redact_id("kb-jane.roe@example.com.md"), redact_id("kb-joe@example.org.md")
    assert jane.startswith("[EMAIL]~") and jane.endswith(".md") and "jane" not in jane
    assert jane != joe and redact_id("kb-jane.roe@example.com.md") == jane  # unique, and the same every time
    assert redact_id(jane) == jane  # a redacted id reads back as itself (uploads are saved under it)
    card = redact_id("refund 4111 1111 1111 1111.txt")
    assert card.startswith("refund [CARD]~") and card.endswith(".txt")
    assert redact(card) == card  # the digest is letters: nothing in it looks like a number to redact
    assert "DE89" not in redact_id("DE89370400440532013000") and "[IBAN]" in redact_id("DE89370400440532013000")
    assert redact_path("/srv/kb/jane.roe@example.com/notes.md") == "/srv/kb/" + redact_id("jane.roe@example.com") \
        + "/notes.md"


def test_titles_ids_and_sources_of_every_reader_are_redacted(tmp_path):
    folder = tmp_path / "jane.roe@example.com"
    folder.mkdir()
    (folder / "kb-jane.roe@example.com.md").write_text("# Card 4111 1111 1111 1111\n\n## IBAN DE89 3704 0044 0532 "
                                                       "0130 00\n\nGift wrap is free.\n")
    (folder / "page.html").write_text("<html><head><title>Mail jane.roe@example.com</title></head>"
                                      "<body><p>Parcels are insured.</p></body></html>")
    (folder / "recs.jsonl").write_text(json.dumps({"id": "DE89370400440532013000", "title": "For 4111111111111111",
                                                   "content": "Returns are free."}) + "\n")
    (folder / "notes for jane.roe@example.com.txt").write_text("Orders ship in two days.\n")  # title from the name
    docs = list(read_documents([tmp_path]))
    assert len(docs) == 4
    for d in docs:
        for raw in RAW:
            assert raw not in d.doc_id and raw not in d.title and raw not in d.source, d
    assert {d.title for d in docs} >= {"Card [CARD]", "Mail [EMAIL]", "For [CARD]", "notes for [EMAIL]"}


def test_files_linking_outside_the_fence_are_skipped_unread(tmp_path):
    inside, outside = tmp_path / "kb", tmp_path / "elsewhere"
    inside.mkdir()
    outside.mkdir()
    (outside / "secret.md").write_text("The deployment password is hunter2.")
    (inside / "faq.md").write_text("Orders ship in two days.")
    (inside / "secret.md").symlink_to(outside / "secret.md")
    skipped: list[str] = []
    docs = list(read_documents([inside], skipped, within=[inside]))
    assert [d.doc_id for d in docs] == ["faq.md"]
    assert len(skipped) == 1 and "links outside" in skipped[0]
    assert len(list(read_documents([inside]))) == 2  # without a fence (the library's own calls) nothing changes
