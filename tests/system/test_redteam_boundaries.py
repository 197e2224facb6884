"""The red-team family of the trust boundaries (#25) holds in full (the quick bench runs only its fast probes)."""

from __future__ import annotations

import pytest

from app.bench import redteam

pytestmark = pytest.mark.slow


def test_every_boundary_probe_holds(data_dir):
    report = redteam.run(quick=False, template=data_dir, families=["boundaries"])
    family = report["families"]["boundaries"]
    assert family["broken"] == 0 and family["held"] == family["probes"] >= 10, family["errors"]
