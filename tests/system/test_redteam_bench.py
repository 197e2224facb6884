"""`python -m app bench redteam` (#19): the standing red-team tally holds in every family, and a broken probe is
named and fails the command."""

from __future__ import annotations

import json

import pytest

from app.bench import redteam
from app.bench.redteam_probes import Ctx
from tests.helpers import run_cli


def test_quick_redteam_bench_holds_in_every_family(data_dir):
    done = run_cli(data_dir, "bench", "redteam", "--quick", "--template", str(data_dir), timeout=900)
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    report = json.loads(done.stdout)
    assert set(report["families"]) == set(redteam.FAMILIES)
    for name, family in report["families"].items():
        assert family["probes"] > 0 and family["held"] == family["probes"], (name, family)
        assert family["broken"] == 0 and family["broken_probes"] == [], (name, family)
    assert report["broken"] == 0 and report["held"] == report["probes"] > 0


def test_a_broken_probe_is_named_with_its_error(tmp_path):
    def accepted(ctx: Ctx) -> None:
        raise AssertionError("accepted")

    def held(ctx: Ctx) -> None:
        return None

    tally = redteam.family_tally(Ctx(data_dir=tmp_path, desk=None), [("bad", accepted, True), ("good", held, True),
                                                                   ("slow", accepted, False)], quick=True)
    assert (tally["probes"], tally["held"], tally["broken"], tally["broken_probes"]) == (2, 1, 1, ["bad"])
    assert tally["errors"]["bad"].startswith("AssertionError: accepted")


def test_an_unknown_family_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown family nope; one of: limits"):
        redteam.run(families=["nope"])
