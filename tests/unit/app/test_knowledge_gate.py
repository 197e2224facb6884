"""The knowledge gate's checks on their own (app/knowledge_ops.py): who, from which server folder, under which name.
The changes themselves, on real Chroma and the real audit trail, are in tests/integration/test_knowledge_ops.py."""

from __future__ import annotations

import pytest
import yaml

from app import knowledge_ops as ops
from app.settings import CONFIG_DIR, Settings
from app.ui.auth import sign_in as console_sign_in


def _settings(tmp_path, **overrides) -> Settings:
    return Settings(data_dir=tmp_path / "data", **overrides)


def test_only_a_signed_in_knowledge_editor_passes(tmp_path):
    s = _settings(tmp_path)
    assert ops.require_editor(s, ops.sign_in(s, "kim", "demo-kim")) == "kim"
    assert ops.require_editor(s, console_sign_in(s, "kim", "demo-kim")) == "kim"  # the console's Identity too
    with pytest.raises(ops.KnowledgeAccessError, match="403 forbidden: sign in first; .* needs the 'knowledge' role"):
        ops.require_editor(s, None)
    with pytest.raises(ops.KnowledgeAccessError, match="needs the 'knowledge' role, which 'ana' does not hold"):
        ops.require_editor(s, ops.sign_in(s, "ana", "demo-ana"))
    with pytest.raises(ops.KnowledgeAccessError, match="401 unauthorized: unknown reviewer or wrong token"):
        ops.sign_in(s, "kim", "demo-ana")
    assert ops.KnowledgeAccessError.status == 403 and issubclass(ops.KnowledgeAccessError, PermissionError)


def test_the_role_is_read_from_the_registry_as_it_is_now(tmp_path):
    data = yaml.safe_load((CONFIG_DIR / "reviewers.yaml").read_text())
    path = tmp_path / "reviewers.yaml"
    path.write_text(yaml.safe_dump(data))
    s = _settings(tmp_path, reviewers_file=path)
    kim = ops.sign_in(s, "kim", "demo-kim")
    next(r for r in data["reviewers"] if r["id"] == "kim")["roles"] = ["billing-agent"]  # taken away after sign-in
    path.write_text(yaml.safe_dump(data) + "\n")
    with pytest.raises(ops.KnowledgeAccessError, match="which 'kim' does not hold"):
        ops.require_editor(s, kim)


def test_server_paths_must_resolve_inside_a_root(tmp_path):
    root, other = tmp_path / "kb", tmp_path / "private"
    (root / "faq").mkdir(parents=True)
    other.mkdir()
    (root / "escape").symlink_to(other, target_is_directory=True)
    s = _settings(tmp_path, knowledge_roots=f" {root} , {tmp_path / 'more'} ")
    assert ops.roots(s) == [root.resolve(), (tmp_path / "more").resolve()]
    assert ops.server_path(s, root / "faq") == (root / "faq").resolve()
    assert ops.server_path(s, root / "faq" / ".." / "faq") == (root / "faq").resolve()
    for bad in (other, root / ".." / "private", root / "escape", root / "escape" / "x.md", "/etc/passwd"):
        with pytest.raises(ops.OutsideRootsError, match=f"outside the knowledge roots \\({root.resolve()}, "):
            ops.server_path(s, bad)


def test_relative_roots_are_relative_to_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / "knowledge" / "sample").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    s = _settings(tmp_path)  # the default root, "knowledge"
    assert ops.server_path(s, "knowledge/sample") == (tmp_path / "knowledge" / "sample").resolve()
    with pytest.raises(ops.OutsideRootsError):
        ops.server_path(s, "knowledge/../data")


def test_upload_names_are_safe():
    assert ops.safe_name("refunds-and-returns.md") == "refunds-and-returns.md"
    assert ops.safe_name("../../etc/cron.d/evil.md") == "evil.md"
    assert ops.safe_name("C:\\Users\\x\\notes.TXT") == "notes.txt"
    assert ops.safe_name(".hidden.md") == "hidden.md" and ops.safe_name("..md") == "upload.md"
    assert ops.safe_name("what? *now*.md") == "what- -now-.md"
    name = ops.safe_name("kb-jane.roe@example.com.md")
    assert name.startswith("[EMAIL]~") and name.endswith(".md") and "jane" not in name
    with pytest.raises(ops.KnowledgeError, match="unsupported file type"):
        ops.safe_name("run.sh")
