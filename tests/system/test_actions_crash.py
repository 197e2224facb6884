"""`kill -9` during execution of an approved refund leaves exactly one refund in the shop's ledger (#26).

The desk runs in a worker process that dies by SIGKILL at an exact point (agents/failpoints.py): before the call to
the shop, or after the shop refunded but before the desk saved the outcome or checkpointed. Then the client sends
the same message again (same message id), as every client that retries does, or the operator runs the reconciler.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.helpers import ROOT
from tests.integration.test_actions import ADA, seed

pytestmark = pytest.mark.slow

WORKER = """
import json, sys
from pathlib import Path
from app.desk import SupportDesk
from app.services import Services
from app.settings import Settings
settings = Settings(data_dir=Path(sys.argv[1]), offline=True, connectors_mode="live")
with SupportDesk(services=Services.from_settings(settings)) as desk:
    r = desk.send(sys.argv[2], thread_id="t-crash", customer=json.loads(sys.argv[3]), message_id="m-1")
    print(json.dumps({"outcome": r.outcome, "execution": r.execution, "answer": r.answer}))
"""
MESSAGE = "Please refund $40 for order BW-50001, the headphones arrived broken."


def _worker(data_dir, failpoint: str | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SUPPORT_OFFLINE": "true", "SUPPORT_CONNECTORS_MODE": "live"}
    env.pop("SUPPORTFLOW_FAILPOINTS", None)
    if failpoint:
        env["SUPPORTFLOW_FAILPOINTS"] = failpoint
    return subprocess.run([sys.executable, "-c", WORKER, str(data_dir), MESSAGE, json.dumps(ADA)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _refunded(data_dir) -> float:
    from app.services import Services
    from tests.helpers import make_settings

    svc = Services.from_settings(make_settings(data_dir, connectors_mode="live"))
    try:
        result = svc.systems.read("get_order", {"order_id": "BW-50001"}, "cu-a")
        return result["order"]["refunded"]
    finally:
        svc.close_systems()


@pytest.mark.parametrize("point, refunded_at_kill", [("execute.before_call", 0.0), ("execute.after_call", 40.0)])
def test_a_kill_during_execution_then_a_retry_leaves_one_refund(data_dir, point, refunded_at_kill):
    seed(data_dir / "shop.db")
    killed = _worker(data_dir, point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert _refunded(data_dir) == pytest.approx(refunded_at_kill)
    again = _worker(data_dir, None)
    assert again.returncode == 0, again.stderr[-2000:]
    result = json.loads(again.stdout.strip().splitlines()[-1])
    assert result["execution"]["status"] == "executed" and "I've refunded $40.00" in result["answer"]
    assert _refunded(data_dir) == pytest.approx(40.0)


def test_the_reconciler_settles_a_write_a_crash_cut_short(data_dir):
    seed(data_dir / "shop.db")
    assert _worker(data_dir, "execute.after_call").returncode == -signal.SIGKILL
    env = {**os.environ, "SUPPORT_OFFLINE": "true", "SUPPORT_CONNECTORS_MODE": "live"}
    done = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), "actions", "reconcile",
                           "--older-than", "0", "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    settled = json.loads(done.stdout)
    assert [s["status"] for s in settled] == ["executed"]
    assert _refunded(data_dir) == pytest.approx(40.0)
    again = _worker(data_dir, None)  # the client's retry afterwards finds it done, and does not refund again
    assert json.loads(again.stdout.strip().splitlines()[-1])["execution"]["status"] == "executed"
    assert _refunded(data_dir) == pytest.approx(40.0)
