"""Turn latency is the machine's work: a review's wait and a model's first load are recorded on their own.

No timing thresholds: the checks are relations between recorded figures (the turn's latency is the sum of its node
runs; the wall time holds the wait the test itself inserted), which hold however slow the machine is.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.helpers import REFUND, ROOT, make_settings, run_cli

WAIT_S = 0.6  # the reviewer's "200 s", shortened: the recorded machine time must not contain it


def _node_ms(metrics, thread_id: str, turn: int) -> float:
    """The turn's node runs before `respond` (which records the turn, then itself)."""
    with metrics.db.connect() as c:
        return sum(r["ms"] for r in c.all("SELECT ms FROM node_runs WHERE thread_id = ? AND turn = ? "
                                          "AND node <> 'respond'", (thread_id, turn)))


def test_review_wait_is_not_turn_latency(desk, data_dir):
    paused = desk.send(REFUND)
    assert paused.pending_review
    time.sleep(WAIT_S)
    assert desk.approve(paused.thread_id, reviewer="ana").outcome == "ticket_created"

    metrics = desk.services.metrics
    [turn] = metrics.turn_times(paused.thread_id)
    assert turn["latency_ms"] == pytest.approx(_node_ms(metrics, paused.thread_id, turn["turn"]), abs=0.05)
    assert turn["wall_ms"] >= WAIT_S * 1000  # the wall time holds the wait ...
    assert turn["wall_ms"] - turn["latency_ms"] >= WAIT_S * 1000  # ... and the machine time does not
    assert turn["review_wait_ms"] == pytest.approx(turn["wall_ms"] - turn["latency_ms"], abs=0.05)

    out = run_cli(data_dir, "stats", "--json")
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout)
    assert stats["turn_latency_ms"]["n"] == 1
    assert stats["turn_latency_ms"]["p50"] == pytest.approx(turn["latency_ms"], abs=0.1)
    assert stats["turn_latency_ms"]["p50"] < stats["turn_wall_ms"]["p50"]
    assert stats["review_wait_ms"]["n"] == 1
    text = run_cli(data_dir, "stats")
    assert text.returncode == 0 and "review wait" in text.stdout


def test_a_turn_without_review_has_no_review_wait(desk):
    result = desk.send("How do I reset my password?")
    [turn] = desk.services.metrics.turn_times(result.thread_id)
    assert turn["review_wait_ms"] is None
    assert turn["latency_ms"] == pytest.approx(_node_ms(desk.services.metrics, result.thread_id, 1), abs=0.05)


def test_model_load_is_warm_up_not_triage_latency(data_dir):
    """A fresh process: the triage node triggers the model load; the load is recorded as warm-up and the
    classify node's recorded time excludes it."""
    from app.desk import SupportDesk
    from app.services import Services

    svc = Services.from_settings(make_settings(data_dir))
    with svc.metrics.db.connect() as c:
        before = c.one("SELECT COUNT(*) AS n FROM warmups")["n"]
    with SupportDesk(services=svc) as desk:
        assert "classifier" not in vars(svc)  # not loaded yet: the first turn triggers it
        result = desk.send("How do I reset my password?")
    with svc.metrics.db.connect() as c:
        warm = c.all("SELECT component, ms FROM warmups")[before:]
        classify = c.one("SELECT ms, warmup_ms FROM node_runs WHERE thread_id = ? AND node = 'classify'",
                         (result.thread_id,))
    loaded = {w["component"]: w["ms"] for w in warm}
    assert "triage-model" in loaded
    assert classify["warmup_ms"] >= loaded["triage-model"] - 0.01  # the whole load was taken out of the node


def test_warm_up_before_the_run(services):
    timings = services.warm_up()
    assert set(timings) == {"language-detector", "triage-model", "retriever"}
    assert "classifier" in vars(services)
    summary = services.metrics.summary()
    assert "triage-model" in summary["warmup_ms"]


def test_old_metrics_tables_are_migrated(tmp_path):
    """A data directory written before `wall_ms` existed opens, gains the columns, and records turns."""
    from app.store.metrics import Metrics

    db = tmp_path / "app.db"
    with sqlite3.connect(db) as c:
        c.executescript("""
        CREATE TABLE node_runs (ts REAL NOT NULL, thread_id TEXT NOT NULL, turn INTEGER NOT NULL, node TEXT NOT NULL,
            ms REAL NOT NULL, error TEXT);
        CREATE TABLE turns (ts REAL NOT NULL, thread_id TEXT NOT NULL, turn INTEGER NOT NULL, intent TEXT,
            outcome TEXT, llm_calls INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL, latency_ms REAL, PRIMARY KEY (thread_id, turn));
        INSERT INTO turns VALUES (1.0, 'old', 1, 'faq', 'answered', 0, 0, 0, 1234.0);
        """)
    m = Metrics(db)
    m.node("t", 1, "classify", 5.0)
    m.turn("t", 1, "faq", "answered", [], 900.0)
    assert m.turn_times("t") == [{"turn": 1, "outcome": "answered", "latency_ms": 5.0, "wall_ms": 900.0,
                                  "review_wait_ms": None}]
    assert m.summary()["turns"] == 2


def test_metrics_migrate_on_postgres(pg_url):
    from app.store.db import connect
    from app.store.metrics import Metrics

    db = connect(pg_url)
    with db.connect() as c:  # a fresh database, with the table as the first release created it
        c.raw.execute("CREATE TABLE turns (ts DOUBLE PRECISION NOT NULL, thread_id TEXT NOT NULL, turn INTEGER NOT "
                      "NULL, intent TEXT, outcome TEXT, llm_calls INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, "
                      "completion_tokens INTEGER NOT NULL, latency_ms DOUBLE PRECISION, PRIMARY KEY (thread_id, turn))")
    m = Metrics(pg_url)
    m.node("t", 1, "review", 3.0)
    m.turn("t", 1, "refund", "ticket_created", [], 5000.0)
    [row] = m.turn_times("t")
    assert (row["latency_ms"], row["wall_ms"], row["review_wait_ms"]) == (3.0, 5000.0, 4997.0)


def test_a_new_desk_loads_the_language_detector_as_warm_up(data_dir):
    """In a fresh process the detector used to load inside the first turn's triage node (about 5 s on the
    first turn); a desk now loads it on creation and records it as warm-up, once per process."""
    code = (
        "import sys\n"
        "from app.desk import SupportDesk\n"
        "from pathlib import Path\n"
        "desk = SupportDesk(data_dir=Path(sys.argv[1]))\n"
        "with desk.services.metrics.db.connect() as c:\n"
        "    rows = c.all(\"SELECT component FROM warmups\")\n"
        "print(sorted({r['component'] for r in rows}))\n"
        "assert desk.services.warm_language() is None\n"
        "desk.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(data_dir)], capture_output=True, text=True, timeout=300,
                         cwd=ROOT, env={**os.environ, "SUPPORT_OFFLINE": "true"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "language-detector" in out.stdout
