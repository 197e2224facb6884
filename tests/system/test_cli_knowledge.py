"""`python -m app ingest` as a knowledge editor's action, in separate processes: credentials from `--token` or
SUPPORT_REVIEWER_TOKEN, the `knowledge` role, the knowledge roots, and `--prune` audited like every change."""

from __future__ import annotations

import pytest

from tests.helpers import make_settings, run_cli

pytestmark = pytest.mark.slow


def test_ingest_needs_an_editor_inside_the_roots(tmp_path):
    data, root, outside = tmp_path / "data", tmp_path / "kb", tmp_path / "private"
    for folder in (root, outside):
        folder.mkdir()
    (root / "a.md").write_text("# Alpha\n\nAlpha widgets are blue.\n")
    (root / "b.md").write_text("# Beta\n\nBeta gadgets charge overnight.\n")
    (outside / "deploy.md").write_text("# Deploy\n\nThe internal deployment password is hunter2.\n")
    roots = {"SUPPORT_KNOWLEDGE_ROOTS": str(root)}

    anonymous = run_cli(data, "ingest", str(root), env=roots)
    assert anonymous.returncode == 2 and "--reviewer" in anonymous.stderr
    wrong = run_cli(data, "ingest", str(root), "--reviewer", "kim", "--token", "demo-ana", env=roots)
    assert wrong.returncode == 77 and "401 unauthorized" in wrong.stderr
    ana = run_cli(data, "ingest", str(root), "--reviewer", "ana", env={**roots, "SUPPORT_REVIEWER_TOKEN": "demo-ana"})
    assert ana.returncode == 77 and "needs the 'knowledge' role" in ana.stderr
    editor = {**roots, "SUPPORT_REVIEWER_TOKEN": "demo-kim"}
    escape = run_cli(data, "ingest", str(root / ".." / "private"), "--reviewer", "kim", env=editor)
    assert escape.returncode == 77 and f"outside the knowledge roots ({root.resolve()})" in escape.stderr

    ok = run_cli(data, "ingest", str(root), "--reviewer", "kim", env=editor)
    assert ok.returncode == 0 and "2 added" in ok.stdout, ok.stderr
    (root / "b.md").unlink()
    pruned = run_cli(data, "ingest", str(root), "--reviewer", "kim", "--prune", env=editor)
    assert pruned.returncode == 0 and "1 deleted" in pruned.stdout, pruned.stderr

    from app.store.audit import AuditLog

    entries = [e for e in AuditLog(make_settings(data).app_db).entries("-") if e["agent"] == "knowledge"]
    assert [(e["event"], e["actor"]) for e in entries] == [
        ("knowledge_refused", "person:ana"), ("knowledge_refused", "editor:kim"),
        ("knowledge_ingested", "editor:kim"), ("knowledge_ingested", "editor:kim")]
    assert entries[2]["evidence"]["added"] == ["a.md", "b.md"] and entries[3]["evidence"]["deleted"] == ["b.md"]
