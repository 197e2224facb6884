"""`bench serve`'s own accounting: the CPU readings its ceiling rests on, and one small real run over HTTP.

The worker-count figures themselves are measured by the command, never asserted here (the machine is shared).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from app.bench.cpu_time import Machine, alive, database_cpu, session_cpu

BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6:\n    pass\n"


def test_session_cpu_counts_the_sessions_processes_and_nothing_else():
    proc = subprocess.Popen([sys.executable, "-c", BURN + "time.sleep(30)"], start_new_session=True)
    try:
        deadline = time.time() + 30
        while session_cpu(proc.pid).get(proc.pid, 0.0) < 0.5 and time.time() < deadline:
            time.sleep(0.1)
        cpu = session_cpu(proc.pid)
        assert set(cpu) == {proc.pid}  # a new session: the child alone, not this test's process
        assert 0.5 <= cpu[proc.pid] < 5
        assert os.getpid() not in cpu
    finally:
        proc.kill()
        proc.wait()
    assert not alive(proc.pid)


def test_machine_busy_rises_while_a_core_burns():
    before = Machine.now()
    subprocess.run([sys.executable, "-c", BURN], check=True)
    busy = Machine.now().since(before)
    assert 0 < busy <= 1
    # one of the machine's cores was busy for the whole burn: at least that share of all cores
    assert busy >= 0.8 / (os.cpu_count() or 1)


def test_database_cpu_reads_the_local_postgres_server():
    """PostgreSQL runs on this machine kind (env notes); with no such process the reading is 0, never an error."""
    assert database_cpu() >= 0.0
    assert database_cpu("no-such-server-process") == 0.0


def test_the_ceiling_leaves_room_for_the_database_server():
    from app.bench.serve import _ceiling

    figures = {"server_cpu_ms_per_request": 20.0, "client_cpu_ms_per_request": 2.0, "database_cpu_ms_per_request": 0.0}
    assert _ceiling(figures, 1, 2) == 50.0  # one worker: one core at 20 ms a request
    assert _ceiling(figures, 2, 2) == round(2000 / 22, 2)  # two: both cores, shared with the load client
    with_db = {**figures, "database_cpu_ms_per_request": 18.0}
    assert _ceiling(with_db, 2, 2) == 50.0  # the database's backends use the same two cores


def test_a_small_real_run_reports_every_figure(monkeypatch):
    from app.bench import serve

    monkeypatch.delenv("SUPPORT_DATABASE_URL", raising=False)
    report = serve.run(n=12, workers=(1,), llm_conversations=0)
    one = report["offline"]["1"]
    assert one["requests"] == 12 and one["errors"] == 0
    assert one["throughput_per_s"] > 0 and one["p50_ms"] <= one["p95_ms"] <= one["p99_ms"]
    assert 0 < one["machine_busy"] <= 1 and one["machine_cpu_ms_per_request"] > 0
    assert one["server_cpu_ms_per_request"] > 0 and len(one["cpu_s_by_worker"]) == 1
    assert report["cpu_bound_ceiling_per_s"]["1"] > 0
