"""One CLI: every option and argument explained, text by default with `--json` wherever a result is printed,
a mistyped --data-dir refused instead of created, ingest failing when it read nothing, strict JSON out."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from app.cli.main import app
from tests.helpers import SAMPLE_KB, run_cli

# Commands without --json, and why: they print no result, or what they print is already a machine document.
NO_JSON = {
    "serve": "runs the server; prints nothing",
    "worker": "runs background jobs; prints nothing",
    "review hash-token": "prints one hash, the value to paste into the registry",
    "audit export-head": "prints the anchor document (JSON) to seal elsewhere",
    "bench": "benchmark reports are JSON for tooling (figures, not messages)",
}


def _is_group(cmd) -> bool:
    return hasattr(cmd, "commands")  # typer vendors its own click: no isinstance against click.Group


def _commands(group, prefix: str = ""):
    for name, cmd in group.commands.items():
        path = f"{prefix}{name}"
        yield path, cmd
        if _is_group(cmd):
            yield from _commands(cmd, path + " ")


def _tree():
    return list(_commands(typer.main.get_command(app)))


def test_every_option_and_argument_has_help():
    root = typer.main.get_command(app)
    missing = [f"(root) {p.name}" for p in root.params if not getattr(p, "help", None)]
    for path, cmd in _tree():
        if not cmd.help and not (cmd.callback and cmd.callback.__doc__):
            missing.append(f"{path}: the command itself")
        for param in cmd.params:
            if param.name != "help" and not getattr(param, "help", None):
                missing.append(f"{path} {param.name}")
    assert missing == []


def test_every_command_that_prints_a_result_takes_json():
    without = []
    for path, cmd in _tree():
        if _is_group(cmd) and not cmd.invoke_without_command or path in NO_JSON or path.split()[0] in NO_JSON:
            continue
        if not any("--json" in getattr(p, "opts", ()) for p in cmd.params):
            without.append(path)
    assert without == []


@pytest.mark.parametrize("args", [["review", "list"], ["tickets", "list"], ["stats"], ["audit", "verify"],
                                  ["killswitch", "status"], ["policy", "suggest"],
                                  ["eval", "--scenarios", "s.jsonl", "--out", "r.jsonl"]])
def test_a_missing_data_dir_is_an_error_and_is_not_created(tmp_path, args):
    typo = tmp_path / "dta"
    result = CliRunner().invoke(app, ["--data-dir", str(typo), *args])
    assert result.exit_code == 2, result.output
    assert "does not exist" in result.output and "Traceback" not in result.output
    assert not typo.exists()


def test_help_works_whatever_the_data_dir(tmp_path):
    typo = tmp_path / "dta"
    result = run_cli(typo, "review", "--help")
    assert result.returncode == 0 and "approve" in result.stdout and not typo.exists()


def test_a_file_given_as_data_dir_is_an_error(tmp_path):
    file = tmp_path / "data"
    file.write_text("not a directory")
    result = CliRunner().invoke(app, ["--data-dir", str(file), "review", "list"])
    assert result.exit_code == 2 and "is not a directory" in result.output


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
    for path in (empty, unsupported):
        out = run_cli(data, "ingest", str(path))
        assert out.returncode == 1, (path, out.stdout, out.stderr)
        assert "nothing could be read" in out.stderr and "Traceback" not in out.stderr
    ok = run_cli(data, "ingest", str(SAMPLE_KB), "--json")
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
