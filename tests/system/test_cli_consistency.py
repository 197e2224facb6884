"""One CLI, run as a user runs it (new processes): help whatever the data dir, commands that may start from nothing,
ingest failing when it read nothing, text by default and strict JSON out. What can be read in-process (help texts,
`--json` everywhere, a mistyped --data-dir) is tests/unit/app/test_cli_consistency.py."""

from __future__ import annotations

import json

import pytest

from tests.helpers import SAMPLE_KB, run_cli


def test_help_works_whatever_the_data_dir(tmp_path):
    typo = tmp_path / "dta"
    result = run_cli(typo, "review", "--help")
    assert result.returncode == 0 and "approve" in result.stdout and not typo.exists()


@pytest.mark.slow
def test_commands_that_create_data_may_start_from_nothing(tmp_path):
    data = tmp_path / "new"
    made = run_cli(data, "db", "upgrade", "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout) and data.is_dir()
    text = run_cli(data, "db", "upgrade")
    assert text.returncode == 0 and not text.stdout.lstrip().startswith("{")


@pytest.mark.slow
def test_ingest_fails_when_nothing_could_be_read(tmp_path):
    data = tmp_path / "data"
    empty = tmp_path / "empty"
    empty.mkdir()
    unsupported = tmp_path / "notes.xyz"
    unsupported.write_text("some text")
    editor = {"SUPPORT_REVIEWER_TOKEN": "demo-kim", "SUPPORT_KNOWLEDGE_ROOTS": f"knowledge,{tmp_path}"}
    for path in (empty, unsupported):
        out = run_cli(data, "ingest", str(path), "--reviewer", "kim", env=editor)
        assert out.returncode == 1, (path, out.stdout, out.stderr)
        assert "nothing could be read" in out.stderr and "Traceback" not in out.stderr
    ok = run_cli(data, "ingest", str(SAMPLE_KB), "--json", "--reviewer", "kim", env=editor)
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert report["read"] > 0 and report["added"] > 0


def _refuse(constant: str):
    pytest.fail(f"non-strict JSON constant {constant}")


@pytest.mark.slow
def test_text_by_default_and_strict_json(data_dir):
    for args in (["stats"], ["killswitch", "status"], ["audit", "verify"], ["policy", "suggest"]):
        text = run_cli(data_dir, *args)
        assert text.returncode == 0, (args, text.stderr)
        with pytest.raises(json.JSONDecodeError):
            json.loads(text.stdout)
        out = run_cli(data_dir, *args, "--json")
        assert out.returncode == 0, (args, out.stderr)
        json.loads(out.stdout, parse_constant=_refuse)
    explained = run_cli(data_dir, "policy", "explain", "I want a refund of $900 for order #48213", "--json")
    assert explained.returncode == 0, explained.stderr
    body = json.loads(explained.stdout)
    assert body["action"]["name"] == "refund" and body["rules"][-1]["fires"]
