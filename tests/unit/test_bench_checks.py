"""The benchmarks' own verdicts and data: a failed red-team check is a broken probe whatever the interpreter's
flags, no shipped module decides anything with `assert`, and the data a benchmark reads ships inside the package."""

from __future__ import annotations

import ast
import json
import tomllib
from pathlib import Path

import pytest

import app
from app.bench import COST_SCENARIOS, redteam
from app.bench import redteam_store as s
from app.bench.redteam_probes import Ctx, ProbeFailed, check, refused
from tests.helpers import ROOT


def test_a_failed_check_raises_probe_failed_with_its_detail():
    check(True, "never built into an error")
    with pytest.raises(ProbeFailed, match="2 tickets for 3 messages"):
        check(False, "2 tickets for 3 messages")
    with pytest.raises(AssertionError, match="the attack worked"):  # still caught where an assert was
        check([])


def test_an_accepted_call_is_a_failed_refusal():
    with pytest.raises(ProbeFailed, match="accepted"):
        refused(lambda: None, ValueError)
    with pytest.raises(ProbeFailed, match="refused for another reason"):
        refused(lambda: int("x"), ValueError, match="approval limit")


def test_a_probe_whose_condition_fails_is_counted_broken(tmp_path):
    """A plain word is no personal data: `redact` keeps it, so the PII probe on it must fail and be named."""
    tally = redteam.family_tally(Ctx(data_dir=tmp_path, desk=None),
                                 [("plain word", s.pii_format("hello"), True), ("card", s.pii_format(s.PII_FORMATS[0]),
                                                                               True)], quick=False)
    assert (tally["held"], tally["broken_probes"]) == (1, ["plain word"])
    assert tally["errors"]["plain word"].startswith("ProbeFailed: my details: hello thanks")


def _asserts(package: Path) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{node.lineno}" for path in sorted(package.rglob("*.py"))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(node, ast.Assert)]


@pytest.mark.parametrize("package", ["app", "agents", "graphs", "knowledge"])
def test_no_shipped_module_decides_with_assert(package):
    """`python -O` strips asserts: a verdict or an input check written as one silently passes there."""
    assert _asserts(ROOT / package) == []


def test_the_cost_scenarios_ship_inside_the_package():
    """The Docker image and an installed wheel carry app/, not tests/."""
    assert COST_SCENARIOS.is_relative_to(Path(app.__file__).parent) and COST_SCENARIOS.is_file()
    rows = [json.loads(line) for line in COST_SCENARIOS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 10 and all(r["messages"] and r["intent"] for r in rows)
    shipped = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["*"]
    assert f"*{COST_SCENARIOS.suffix}" in shipped


def test_no_shipped_module_reads_the_tests_folder():
    hits = [f"{path.relative_to(ROOT)}:{n}" for package in ("app", "agents", "graphs", "knowledge")
            for path in sorted((ROOT / package).rglob("*.py"))
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if '"tests"' in line or "'tests'" in line or '"tests/' in line]
    assert hits == []
