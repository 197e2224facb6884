"""The knowledge gate (app/knowledge_ops.py) on real Chroma and the real audit trail: who may change the knowledge
base, from which folders, that a replace is explicit, that every change is audited, and that personal data in a
title, heading or file name reaches neither Chroma nor the citations of an answer."""

from __future__ import annotations

import json

import pytest

from app import knowledge_ops as ops
from tests.helpers import make_settings

OFFICIAL_ID = "refunds-and-returns.md"  # in the sample help centre the data dir was built from
FORGED = b"# Refunds and returns\n\nRefunds are never given, whatever the reason.\n"


@pytest.fixture
def root(tmp_path):
    path = tmp_path / "kb-root"
    path.mkdir()
    return path


@pytest.fixture
def svc(data_dir, root):
    from app.services import Services

    return Services.from_settings(make_settings(data_dir, knowledge_roots=str(root)))


@pytest.fixture
def kim(svc):
    return ops.sign_in(svc.settings, "kim", "demo-kim")


def _audit(svc, event=None):
    return [e for e in svc.audit.entries("-") if e["agent"] == "knowledge" and event in (None, e["event"])]


def test_ingest_needs_the_role_and_is_audited_with_the_editor(svc, root, kim):
    (root / "gift-wrap.md").write_text("# Gift wrap\n\nGift wrapping costs four dollars per parcel.\n")
    store, before = svc.store(), svc.store().count()
    for person in (None, ops.sign_in(svc.settings, "ana", "demo-ana")):
        with pytest.raises(ops.KnowledgeAccessError, match="'knowledge' role"):
            ops.ingest_paths(svc, person, [root])
    assert store.count() == before
    assert [e["actor"] for e in _audit(svc, "knowledge_refused")] == ["anonymous", "person:ana"]
    seen = []
    change = ops.ingest_paths(svc, kim, [root], progress=lambda done, total: seen.append((done, total)))
    assert change.added == ["gift-wrap.md"] and change.collection == svc.settings.collection
    assert seen == [(1, 1)]  # the console's progress bar
    (entry,) = _audit(svc, "knowledge_ingested")
    assert entry["actor"] == "editor:kim" and entry["thread_id"] == "-"
    assert entry["evidence"]["collection"] == "helpcentre" and entry["evidence"]["added"] == ["gift-wrap.md"]
    assert entry["evidence"]["counts"] == {"added": 1, "updated": 0, "deleted": 0, "replaced": 0, "unchanged": 0,
                                           "chunks": 1, "skipped": 0}
    assert svc.audit.verify().ok


def test_prune_is_a_delete_and_is_audited(svc, root, kim):
    (root / "a.md").write_text("# A\n\nAlpha widgets are blue.\n")
    (root / "b.md").write_text("# B\n\nBeta gadgets charge overnight.\n")
    ops.ingest_paths(svc, kim, [root], "kb-prune")
    (root / "b.md").unlink()
    change = ops.ingest_paths(svc, kim, [root], "kb-prune", prune=True)
    assert change.deleted == ["b.md"] and set(svc.store("kb-prune").doc_hashes()) == {"a.md"}
    last = _audit(svc, "knowledge_ingested")[-1]
    assert last["evidence"]["deleted"] == ["b.md"] and last["evidence"]["prune"] is True


def test_server_folders_outside_the_roots_are_refused(svc, root, kim, tmp_path):
    outside = tmp_path / "deploy"
    outside.mkdir()
    (outside / "notes.md").write_text("# Notes\n\nThe internal deployment password is hunter2.\n")
    (root / "linked").symlink_to(outside, target_is_directory=True)
    for path in (outside, root / ".." / "deploy", root / "linked"):
        with pytest.raises(ops.OutsideRootsError, match=f"outside the knowledge roots \\({root.resolve()}\\)"):
            ops.ingest_paths(svc, kim, [path])
    (root / "docs").mkdir()
    (root / "docs" / "notes.md").symlink_to(outside / "notes.md")
    (root / "docs" / "faq.md").write_text("# FAQ\n\nOrders ship in two days.\n")
    change = ops.ingest_paths(svc, kim, [root / "docs"], "kb-links")
    assert change.added == ["faq.md"] and any("links outside" in s for s in change.report.skipped)
    assert "hunter2" not in json.dumps(svc.store("kb-links").all_chunks())
    assert len(_audit(svc, "knowledge_refused")) == 3


def test_an_upload_never_silently_replaces_a_document(svc, kim, data_dir):
    store = svc.store()
    before = store.doc_hashes()
    assert OFFICIAL_ID in before
    with pytest.raises(ops.DocumentExistsError, match=f"{OFFICIAL_ID} already exists in helpcentre; replace it "
                                                      "explicitly") as refused:
        ops.upload(svc, kim, [(OFFICIAL_ID, FORGED)])
    assert refused.value.doc_ids == [OFFICIAL_ID] and refused.value.status == 409
    assert store.doc_hashes() == before and ops.upload_conflicts(svc, [(OFFICIAL_ID, FORGED)]) == [OFFICIAL_ID]
    assert not (data_dir / "uploads" / "helpcentre" / OFFICIAL_ID).exists()  # a refused upload is not kept either
    change = ops.upload(svc, kim, [(OFFICIAL_ID, FORGED), ("gift-wrap.md", b"# Gift wrap\n\nIt is free.\n")],
                        replace=True)
    assert change.replaced == [OFFICIAL_ID] and change.updated == [OFFICIAL_ID] and change.added == ["gift-wrap.md"]
    assert any("never given" in t for t in store.all_chunks()[1])
    (entry,) = _audit(svc, "knowledge_replaced")
    assert entry["actor"] == "editor:kim" and entry["evidence"]["replaced"] == [OFFICIAL_ID]
    assert entry["evidence"]["files"] == [OFFICIAL_ID, "gift-wrap.md"]
    assert sorted(p.name for p in (data_dir / "uploads" / "helpcentre").iterdir()) == ["gift-wrap.md", OFFICIAL_ID]


def test_uploads_are_saved_under_a_safe_name_in_the_data_dir(svc, kim, data_dir, tmp_path):
    change = ops.upload(svc, kim, [("../../escape.md", b"# Escape\n\nNothing here.\n")], "kb-up")
    assert change.added == ["escape.md"]
    assert (data_dir / "uploads" / "kb-up" / "escape.md").is_file() and not (tmp_path / "escape.md").exists()
    (entry,) = _audit(svc, "knowledge_uploaded")
    assert entry["evidence"]["files"] == ["escape.md"]
    with pytest.raises(ops.KnowledgeAccessError):
        ops.upload(svc, None, [("new.md", b"# New\n\nNew text.\n")], "kb-up")
    assert set(svc.store("kb-up").doc_hashes()) == {"escape.md"}


def test_delete_needs_the_role_names_unknown_ids_and_is_audited(svc, kim):
    store = svc.store()
    with pytest.raises(ops.KnowledgeAccessError, match="'knowledge' role"):
        ops.delete(svc, ops.sign_in(svc.settings, "max", "demo-max"), [OFFICIAL_ID])
    with pytest.raises(ops.KnowledgeError, match="not in helpcentre: no-such.md"):
        ops.delete(svc, kim, [OFFICIAL_ID, "no-such.md"])
    assert OFFICIAL_ID in store.doc_hashes()
    change = ops.delete(svc, kim, [OFFICIAL_ID])
    assert change.deleted == [OFFICIAL_ID] and OFFICIAL_ID not in store.doc_hashes()
    assert OFFICIAL_ID not in {h.doc_id for h in svc.retriever().search("how do refunds and returns work", k=10)}
    (entry,) = _audit(svc, "knowledge_deleted")
    assert entry["actor"] == "editor:kim" and entry["evidence"]["deleted"] == [OFFICIAL_ID]


PII_NAME = "kb-jane.roe@example.com.md"
PII_DOC = ("# Gift wrap for card 4111 1111 1111 1111 and jane.roe@example.com\n\n"
           "## Wrapping IBAN DE89 3704 0044 0532 0130 00\n\n"
           "Gift wrapping costs four dollars per parcel and is chosen at checkout.\n")
RAW = ("jane.roe", "4111 1111 1111 1111", "4111111111111111", "DE89 3704", "DE89370400440532013000")


def test_personal_data_in_title_heading_and_file_name_is_never_stored_or_cited(svc, root, kim):
    from app.desk import SupportDesk

    (root / PII_NAME).write_text(PII_DOC)
    change = ops.ingest_paths(svc, kim, [root])
    (doc_id,) = change.added
    assert doc_id.startswith("[EMAIL]~") and doc_id.endswith(".md")
    ids, texts, metas = svc.store().all_chunks()
    mine = [m for m in metas if m["doc_id"] == doc_id]
    assert mine and mine[0]["title"] == "Gift wrap for card [CARD] and [EMAIL]"
    assert mine[0]["section"] == "Wrapping IBAN [IBAN]"
    stored = json.dumps([ids, texts, metas], ensure_ascii=False) + json.dumps(_audit(svc), ensure_ascii=False)
    assert not [raw for raw in RAW if raw in stored]
    with SupportDesk(services=svc) as desk:
        r = desk.send("How much does gift wrapping cost per parcel?")
    assert r.outcome == "answered" and doc_id in [c["doc_id"] for c in r.citations]
    shown = json.dumps(r.model_dump(), ensure_ascii=False)
    assert "[EMAIL]" in shown and not [raw for raw in RAW if raw in shown]
    again = ops.ingest_paths(svc, kim, [root])  # the redacted id is stable: nothing to redo
    assert again.report.unchanged >= 1 and not (again.added or again.updated)
