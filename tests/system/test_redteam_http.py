"""The HTTP red-team probes (#25) hold against the application as built, and are not vacuous: pointed at a server
without limits, each one reports the attack as having worked."""

from __future__ import annotations

import pytest

from app.bench import redteam, redteam_http
from app.bench.redteam_probes import Ctx, ProbeFailed

pytestmark = pytest.mark.slow


def test_every_http_probe_holds(data_dir):
    tally = redteam.family_tally(Ctx(data_dir=data_dir, desk=None), redteam_http.FAMILY, quick=False)
    assert tally["errors"] == {} and tally["held"] == tally["probes"] == 4, tally


def test_each_probe_catches_a_server_without_limits(data_dir):
    with redteam_http.served(Ctx(data_dir=data_dir, desk=None), rate_limit="", max_body_bytes=10**9) as url:
        for attack in (redteam_http.check_declared_body, redteam_http.check_chunked_body, redteam_http.check_burst,
                       redteam_http.check_other_key):
            with pytest.raises(ProbeFailed):
                attack(url)
