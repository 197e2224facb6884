"""`.env.example` and the settings table of docs/configuration.md are generated from `Settings` and kept current."""

from __future__ import annotations

import shutil

import pytest

from app.cli.config import COMMAND, DOCS_PAGE, END, ENV_EXAMPLE, ROOT, START, env_example, expected, stale
from app.settings import Settings


def test_the_generated_files_are_current():
    behind = [str(p.relative_to(ROOT)) for p in stale()]
    assert behind == [], f"{', '.join(behind)} behind app/settings.py: run `{COMMAND}`"


def test_every_setting_is_in_both_files_with_its_default():
    example, page = expected().values()
    for name in Settings.model_fields:
        var = f"SUPPORT_{name.upper()}"
        assert f"`{var}`" in page, name
        assert any(line.startswith(f"# {var}=") for line in example.splitlines()), name
    assert "# SUPPORT_RETRIEVAL_K=5\n" in example
    assert "| `SUPPORT_REVIEWERS_FILE` | `app/config/reviewers.yaml` |" in page


def test_defaults_come_from_the_fields_not_from_this_environment(monkeypatch, tmp_path):
    before = env_example()
    monkeypatch.setenv("SUPPORT_RETRIEVAL_K", "9")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SUPPORT_COLLECTION=other\n")
    assert env_example() == before


def test_a_stale_file_is_found_and_only_the_block_is_rewritten(tmp_path):
    (tmp_path / "docs").mkdir()
    page = tmp_path / DOCS_PAGE
    page.write_text(f"# Hand-written\n\nProse before.\n\n{START}\n| old | table |\n{END}\n\nProse after.\n")
    (tmp_path / ENV_EXAMPLE).write_text("# SUPPORT_DATA_DIR=.support-data\n")
    assert stale(tmp_path) == [tmp_path / ENV_EXAMPLE, page]
    for path, text in expected(tmp_path).items():
        path.write_text(text)
    assert stale(tmp_path) == []
    text = page.read_text()
    assert text.startswith("# Hand-written\n\nProse before.\n\n") and text.endswith(f"{END}\n\nProse after.\n")
    assert "| old | table |" not in text and "`SUPPORT_API_KEYS_FILE`" in text


def test_a_missing_page_is_created_and_a_page_without_markers_is_refused(tmp_path):
    assert stale(tmp_path) == [tmp_path / ENV_EXAMPLE, tmp_path / DOCS_PAGE]
    assert START in expected(tmp_path)[tmp_path / DOCS_PAGE]
    (tmp_path / "docs").mkdir()
    (tmp_path / DOCS_PAGE).write_text("# Configuration\n\nNo markers.\n")
    with pytest.raises(ValueError, match="markers"):
        expected(tmp_path)


def test_the_command_writes_what_the_check_expects(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from app.cli import config
    from app.cli.main import app

    for path in (ENV_EXAMPLE, DOCS_PAGE):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / path, tmp_path / path)
    (tmp_path / ENV_EXAMPLE).write_text("stale\n")
    monkeypatch.setattr(config, "ROOT", tmp_path)
    check = CliRunner().invoke(app, ["config", "docs", "--check", "--json"])
    assert check.exit_code == 1 and ".env.example" in check.output
    written = CliRunner().invoke(app, ["config", "docs"])
    assert written.exit_code == 0 and ".env.example" in written.output
    assert CliRunner().invoke(app, ["config", "docs", "--check"]).exit_code == 0
