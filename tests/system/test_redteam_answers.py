"""The red-team probes for retrieved text (app/bench/redteam_answers.py) hold on a real desk, and are not vacuous:
with the answer guard switched off, every planted attack is reported broken while the passing probes still pass."""

from __future__ import annotations

from app.bench import redteam
from app.bench.redteam_answers import FAMILY
from app.bench.redteam_probes import Ctx


def test_every_retrieved_text_probe_holds(desk, data_dir):
    tally = redteam.family_tally(Ctx(data_dir=data_dir, desk=desk), FAMILY, quick=False)
    assert tally["probes"] == len(FAMILY) and tally["held"] == len(FAMILY), tally["errors"]


def test_without_the_guard_the_planted_attacks_are_reported(desk, data_dir, monkeypatch):
    from agents.research import answer_guard

    monkeypatch.setattr(answer_guard, "screen", lambda research, allowlist: research)
    tally = redteam.family_tally(Ctx(data_dir=data_dir, desk=desk), FAMILY, quick=False)
    assert tally["broken_probes"] == ["planted_card_number_request", "planted_password_request",
                                      "planted_outside_link"], tally["errors"]
