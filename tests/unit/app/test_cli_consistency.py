"""One CLI, read in-process with Typer's runner: every option and argument explained, `--json` wherever a result is
printed, a mistyped or non-directory --data-dir refused instead of created. The commands run as a user runs them
(new processes, real data) are tests/system/test_cli_consistency.py."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from app.cli.main import app

# Commands without --json, and why: they print no result, or what they print is already a machine document.
NO_JSON = {
    "serve": "runs the server; prints nothing",
    "worker": "runs background jobs; prints nothing",
    "shop serve": "runs the sample shop's server; prints nothing",
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


def test_a_file_given_as_data_dir_is_an_error(tmp_path):
    file = tmp_path / "data"
    file.write_text("not a directory")
    result = CliRunner().invoke(app, ["--data-dir", str(file), "review", "list"])
    assert result.exit_code == 2 and "is not a directory" in result.output
