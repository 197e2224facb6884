"""The ticket red-team family (app/bench/redteam_tickets.py, issue #25) holds on a real desk and data directory:
nobody off the team acts, nothing is parked with a person or queue that does not exist, and another queue's
ticket is finished only by its members or a supervisor. Each probe also checks that those people still can."""

from __future__ import annotations

import pytest

from app.bench import redteam
from app.bench.redteam_probes import Ctx
from app.bench.redteam_tickets import FAMILY

pytestmark = pytest.mark.slow


def test_every_ticket_probe_holds(data_dir, desk):
    tally = redteam.family_tally(Ctx(data_dir=data_dir, desk=desk), FAMILY, quick=False)
    assert tally["broken"] == 0, tally["errors"]
    assert tally["held"] == tally["probes"] == len(FAMILY)


def test_the_quick_subset_keeps_a_probe_of_each_kind_of_refusal():
    quick = {name for name, _, fast in FAMILY if fast}
    assert {"unknown_assignee", "unknown_queue", "unknown_actor", "close_another_queues_ticket"} <= quick
    assert len({name for name, _, _ in FAMILY}) == len(FAMILY)
