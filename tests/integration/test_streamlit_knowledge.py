"""The console's Knowledge page through AppTest: read-only without the `knowledge` role (no controls at all), and
for a signed-in knowledge editor upload, folder ingest inside the knowledge roots, an explicit replace, delete, each
through app/knowledge_ops.py and so audited with the editor's id."""

from __future__ import annotations

import pytest

from tests.helpers import make_settings, sign_in

OFFICIAL_ID = "refunds-and-returns.md"  # in the sample help centre the data dir was built from
CONTROLS = ("kb-ingest-upload", "kb-ingest-folder", "kb-delete")


@pytest.fixture(autouse=True)
def kb_root(tmp_path, monkeypatch):
    """An allowed server folder, set before the `app` fixture builds the console's desk (autouse runs first)."""
    root = tmp_path / "kb-root"
    root.mkdir()
    monkeypatch.setenv("SUPPORT_KNOWLEDGE_ROOTS", str(root))
    return root


def _page(app):
    app.switch_page("app/ui/knowledge.py").run()
    assert not app.exception
    return app


def _documents(at) -> int:
    """The document count the page reports ("N documents, M chunks in <collection>")."""
    return int(next(s.value for s in at.subheader if "chunks in" in s.value).split()[0])


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def _knowledge_audit(data_dir, event):
    from app.store.audit import AuditLog

    return [e for e in AuditLog(make_settings(data_dir).app_db).entries("-") if e["event"] == event]


def test_without_the_role_the_page_only_lists(app):
    _page(app)
    assert not app.dataframe and any("sign in" in i.value for i in app.info)  # team pages are gated
    sign_in(app, "ana", "demo-ana")
    assert _documents(app) > 0 and app.dataframe  # the listing stays
    assert not [b for b in app.button if b.key in CONTROLS]
    assert not app.get("file_uploader") and not [t for t in app.text_input if t.key == "kb-folder"]
    assert any("`knowledge` role" in i.value for i in app.info)


def test_an_editor_uploads_and_replaces_only_explicitly(app, data_dir):
    _page(app)
    sign_in(app, "kim", "demo-kim")
    assert not app.info and not app.exception
    before = _documents(app)
    app.file_uploader(key="kb-upload").set_value(
        ("gift-cards.md", b"# Gift cards\n\nGift cards never expire and can be used on any order.\n", "text/markdown"))
    app.run()
    assert not [c for c in app.checkbox if c.key == "kb-replace"]  # nothing to replace: no choice offered
    _button(app, "kb-ingest-upload").click().run()
    assert any("1 added" in s.value for s in app.success) and _documents(app) == before + 1
    docs = app.dataframe[0].value
    assert docs[docs["Document"] == "gift-cards.md"]["Chunks"].iloc[0] == 1

    app.file_uploader(key="kb-upload").set_value(
        (OFFICIAL_ID, b"# Refunds and returns\n\nRefunds are never given.\n", "text/markdown"))
    app.run()
    assert any(OFFICIAL_ID in w.value for w in app.warning)
    _button(app, "kb-ingest-upload").click().run()  # the replace box left unticked
    assert any("already exists in helpcentre; replace it explicitly" in e.value for e in app.error)
    assert not _knowledge_audit(data_dir, "knowledge_replaced")
    app.checkbox(key="kb-replace").check().run()
    _button(app, "kb-ingest-upload").click().run()
    assert any(f"replaced {OFFICIAL_ID}" in s.value for s in app.success)
    (entry,) = _knowledge_audit(data_dir, "knowledge_replaced")
    assert entry["actor"] == "editor:kim" and entry["evidence"]["replaced"] == [OFFICIAL_ID]


def test_an_editor_ingests_folders_inside_the_roots_only(app, data_dir, kb_root, tmp_path):
    _page(app)
    sign_in(app, "kim", "demo-kim")
    before = _documents(app)
    for i in range(3):
        (kb_root / f"topic-{i}.md").write_text(f"# Topic {i}\n\n" + "Details about this topic. " * 80)
    app.text_input(key="kb-folder").set_value(str(kb_root)).run()
    _button(app, "kb-ingest-folder").click().run()
    assert any("3 added" in s.value for s in app.success) and _documents(app) == before + 3
    outside = tmp_path / "private"
    outside.mkdir()
    (outside / "deploy.md").write_text("# Deploy\n\nThe internal deployment password is hunter2.\n")
    for path in (outside, kb_root / ".." / "private"):
        app.text_input(key="kb-folder").set_value(str(path)).run()
        _button(app, "kb-ingest-folder").click().run()
        assert any("outside the knowledge roots" in e.value and str(kb_root) in e.value for e in app.error)
    assert _documents(app) == before + 3
    app.text_input(key="kb-folder").set_value(str(kb_root / "missing")).run()
    _button(app, "kb-ingest-folder").click().run()
    assert any("no such file or folder" in e.value for e in app.error)
    assert [e["actor"] for e in _knowledge_audit(data_dir, "knowledge_ingested")] == ["editor:kim"]


def test_an_editor_deletes_a_document(app, data_dir):
    _page(app)
    sign_in(app, "kim", "demo-kim")
    before = _documents(app)
    app.multiselect(key="kb-delete-ids").select(OFFICIAL_ID).run()
    _button(app, "kb-delete").click().run()
    assert any(f"Deleted from helpcentre: {OFFICIAL_ID}" in s.value for s in app.success)
    assert _documents(app) == before - 1 and OFFICIAL_ID not in app.dataframe[0].value["Document"].tolist()
    (entry,) = _knowledge_audit(data_dir, "knowledge_deleted")
    assert entry["actor"] == "editor:kim" and entry["evidence"]["deleted"] == [OFFICIAL_ID]
