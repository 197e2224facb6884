"""The knowledge-base red-team probes (app/bench/redteam_knowledge.py) hold on a real data directory, and are not
vacuous: a gate that lets everyone in is caught."""

from __future__ import annotations

import pytest

from app.bench import redteam_knowledge as rk
from app.bench.redteam import family_tally
from app.bench.redteam_probes import Ctx, ProbeFailed


@pytest.fixture
def ctx(data_dir, desk):
    return Ctx(data_dir=data_dir, desk=desk)


def test_every_knowledge_probe_holds(ctx):
    tally = family_tally(ctx, rk.FAMILY, quick=False)
    assert tally["broken"] == 0, tally["errors"]
    assert tally["held"] == len(rk.FAMILY) >= 8
    assert any(quick for _, _, quick in rk.FAMILY)


def test_an_open_gate_is_caught(ctx, monkeypatch):
    from app import knowledge_ops

    monkeypatch.setattr(knowledge_ops, "require_editor", lambda settings, person: "anyone")  # the old page
    for probe in (rk.unsigned_ingest_refused, rk.non_editor_reviewer_refused):
        with pytest.raises(ProbeFailed):
            probe(ctx)
