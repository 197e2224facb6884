"""Red team (#19): one writer per thread, a ticket per message, thread-id garbage, strict JSON, async lifecycle.

Each case reproduces an attack that worked on the code before this suite: concurrent messages on one thread
shared one ticket and lost messages, bad thread ids gave tracebacks, `--json` printed NaN, and a script that
awaited `desk.asend` without closing the desk never exited.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest

from app.services import Services
from app.settings import Settings
from tests.helpers import ROOT, make_settings, run_cli

ORDER = 70000


def refund(i: int) -> str:
    return f"Please refund ${20 + i} for order #{ORDER + i}, it arrived broken."


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request):
    return {} if request.param == "sqlite" else {"database_url": request.getfixturevalue("pg_url")}


def make_desk(data_dir, backend=None, **kwargs):
    from app.desk import SupportDesk

    return SupportDesk(services=Services.from_settings(make_settings(data_dir, **(backend or {}))), **kwargs)


def check_each_told_its_own(desk, tid: str, results: list, n: int) -> None:
    """n refunds on one thread: n turns, n tickets, each reply naming its own order and its own ticket."""
    assert all(not isinstance(r, BaseException) for r in results), results
    tickets = {t["id"]: t for t in desk.services.tickets.list(thread_id=tid)}
    assert len(tickets) == n, sorted(tickets)
    for i, r in enumerate(results):
        assert r.outcome == "ticket_created" and r.ticket_id in tickets
        assert f"order {ORDER + i}" in r.answer and r.ticket_id in r.answer, (i, r.answer)
        assert tickets[r.ticket_id]["action"]["args"]["order_id"] == str(ORDER + i)
    values = desk.runner.snapshot(tid).values
    assert sorted(m.id for m in values["messages"] if m.type == "human") == sorted(f"m{i}" for i in range(n))
    assert values["turn"] == n


def elsewhere(call):
    """`call()` on another OS thread (another owner of thread locks): its result, or the exception it raised."""
    out: dict = {}

    def run() -> None:
        try:
            out["value"] = call()
        except Exception as exc:  # returned to the test, which checks its type
            out["value"] = exc

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=600)
    return out["value"]


# ---- one writer per thread ------------------------------------------------------------------------------
def test_six_concurrent_asends_on_one_thread_each_get_their_own_ticket(data_dir, backend):
    desk = make_desk(data_dir, backend)

    async def main():
        out = await asyncio.gather(*(desk.asend(refund(i), thread_id="T", message_id=f"m{i}") for i in range(6)),
                                   return_exceptions=True)
        await desk.aclose()
        return out

    results = asyncio.run(main())
    try:
        check_each_told_its_own(desk, "T", results, 6)
    finally:
        desk.close()


def test_concurrent_sends_from_os_threads_are_serialised(desk):
    results: list = [None] * 4

    def send(i: int) -> None:
        try:
            results[i] = desk.send(refund(i), thread_id="T", message_id=f"m{i}")
        except Exception as exc:  # reported by the check below
            results[i] = exc

    workers = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=600)
    check_each_told_its_own(desk, "T", results, 4)


def test_five_parallel_cli_asks_on_one_thread(data_dir):
    env = {**os.environ, "SUPPORT_OFFLINE": "true", "HF_HUB_OFFLINE": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "app", "--data-dir", str(data_dir), "ask", refund(i),
                               "--thread", "T", "--json"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(5)]
    outs = [p.communicate(timeout=600) for p in procs]  # the timeout only guards against a hang
    assert [p.returncode for p in procs] == [0] * 5, [err[-2000:] for _, err in outs]
    results = [json.loads(out) for out, _ in outs]
    tickets = {t["id"]: t for t in Services.from_settings(make_settings(data_dir)).tickets.list(thread_id="T")}
    assert len(tickets) == 5 and {r["ticket_id"] for r in results} == set(tickets)
    for i, r in enumerate(results):
        assert f"order {ORDER + i}" in r["answer"] and tickets[r["ticket_id"]]["action"]["args"]["order_id"] == \
            str(ORDER + i)
    with make_desk(data_dir) as desk:
        values = desk.runner.snapshot("T").values
    assert len([m for m in values["messages"] if m.type == "human"]) == 5 and values["turn"] == 5


def test_a_busy_thread_refuses_retryably_and_records_nothing(data_dir, backend):
    from app.desk import MessageError, ThreadBusyError

    with make_desk(data_dir, backend, lock_timeout=0.3) as desk:
        with desk.runner.hold("T"):  # another run is on the thread
            busy = elsewhere(lambda: desk.send(refund(0), thread_id="T", message_id="m0"))
            assert isinstance(busy, ThreadBusyError) and isinstance(busy, MessageError)
            assert busy.retryable and "send it again" in str(busy)
            assert not desk.runner.snapshot("T").values  # nothing recorded
        r = desk.send(refund(0), thread_id="T", message_id="m0")  # the retry goes through
        assert r.outcome == "ticket_created" and len(desk.services.tickets.list()) == 1


def test_a_holder_may_run_on_its_thread_and_nobody_else_may(data_dir):
    """`runner.hold` (a caller streaming a turn itself) is re-entrant for its own thread only."""
    from app.desk import ThreadBusyError

    with make_desk(data_dir, lock_timeout=0.3) as desk, desk.runner.hold("T"):
        assert desk.send(refund(0), thread_id="T", message_id="m0").outcome == "ticket_created"
        assert isinstance(elsewhere(lambda: desk.send(refund(1), thread_id="T", message_id="m1")), ThreadBusyError)
    assert len(desk.services.tickets.list()) == 1


def test_waiting_for_a_busy_thread_does_not_block_the_event_loop(data_dir):
    from app.desk import ThreadBusyError

    desk = make_desk(data_dir, lock_timeout=1.0)
    ticks = 0

    async def main():
        nonlocal ticks
        async with desk:
            waiting = asyncio.ensure_future(desk.asend(refund(0), thread_id="T"))
            while not waiting.done():
                ticks += 1
                await asyncio.sleep(0.01)
            return waiting.exception()

    with desk.runner.hold("T"):
        error = asyncio.run(main())
    assert isinstance(error, ThreadBusyError)
    assert ticks > 2  # the loop kept running other work while the message waited


def test_a_crashed_holder_does_not_block_the_thread(data_dir, backend):
    """The holder is killed holding the lock: the next message takes it over (lease of a dead pid; PostgreSQL
    drops a dead session's advisory locks)."""
    target = backend.get("database_url") or str(make_settings(data_dir).app_db)
    script = ("import os, sys; from app.store.thread_locks import ThreadLocks; "
              "ThreadLocks(sys.argv[1]).acquire('T'); print('HELD', flush=True); os._exit(9)")
    done = subprocess.run([sys.executable, "-c", script, target], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert "HELD" in done.stdout, done.stderr
    with make_desk(data_dir, backend, lock_timeout=60) as desk:
        assert desk.send(refund(0), thread_id="T", message_id="m0").outcome == "ticket_created"


@pytest.mark.skipif("thread_lock_timeout" not in Settings.model_fields,
                    reason="SUPPORT_THREAD_LOCK_TIMEOUT is not a setting yet")
def test_cli_ask_on_a_busy_thread_exits_75(data_dir):
    from app.desk import SupportDesk

    with SupportDesk(services=Services.from_settings(make_settings(data_dir))) as desk, desk.runner.hold("T"):
        done = run_cli(data_dir, "ask", refund(0), "--thread", "T", env={"SUPPORT_THREAD_LOCK_TIMEOUT": "0.5"})
    assert done.returncode == 75 and "busy" in done.stderr and "Traceback" not in done.stderr


def test_a_resent_message_finds_its_ticket(desk):
    """The ticket key now holds the message id: a message sent again (same id) still maps to its one ticket."""
    first = desk.send(refund(0), thread_id="T", message_id="m0")
    again = desk.send(refund(0), thread_id="T", message_id="m0")
    assert again.ticket_id == first.ticket_id and len(desk.services.tickets.list()) == 1
    [t] = desk.services.tickets.list()
    assert t["idempotency_key"] == "T:1:m0:refund"


# ---- thread ids no store can hold -----------------------------------------------------------------------
BAD_IDS = ["ab\udcffcd", "x" * 5000, "a\x00b", "line\nbreak", "   "]


@pytest.mark.parametrize("bad", BAD_IDS, ids=["surrogate", "too-long", "nul", "newline", "blank"])
def test_bad_thread_ids_are_refused_before_anything_is_stored(desk, bad):
    from app.desk import InvalidThreadIdError, MessageError, UnknownThreadError

    before = desk.runner.thread_ids()
    with pytest.raises(MessageError) as refused:
        desk.send("my email is jo@example.com, please refund $20 for order #1234", thread_id=bad)
    assert isinstance(refused.value, InvalidThreadIdError) and str(refused.value).isascii()
    for call in (desk.get, desk.history, lambda t: desk.approve(t, reviewer="ana")):
        with pytest.raises(UnknownThreadError):
            call(bad)
    assert desk.runner.thread_ids() == before and desk.services.tickets.list() == []


def test_cli_bad_thread_ids_are_clean_errors(data_dir):
    garbage = os.fsdecode(b"ab\xffcd")  # invalid UTF-8 on the command line
    for args in (["ask", "hello there", "--thread", garbage], ["ask", "hello there", "--thread", "x" * 5000],
                 ["tickets", "list", "--thread", garbage], ["review", "approve", garbage, "--reviewer", "ana"]):
        done = run_cli(data_dir, *args)
        assert done.returncode == 2 and "error: thread id" in done.stderr and "Traceback" not in done.stderr, args


# ---- strict JSON ----------------------------------------------------------------------------------------
def test_json_output_never_contains_nan_or_infinity(capsys):
    import numpy as np

    from app.cli.common import print_json

    print_json({"confidence": float("nan"), "tokens": [float("inf"), -float("inf"), 1.5, 2],
                "np": np.float32("nan"), "np64": np.float64("inf"), "ok": True, float("nan"): "key"})

    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    out = json.loads(capsys.readouterr().out, parse_constant=refuse)
    assert out["confidence"] is None and out["tokens"] == [None, None, 1.5, 2] and out["ok"] is True
    assert out["np"] is None and out["np64"] is None and out["nan"] == "key"


# ---- async lifecycle ------------------------------------------------------------------------------------
def test_a_script_that_never_closes_the_desk_still_exits(data_dir):
    script = textwrap.dedent(f"""
        import asyncio
        from app.desk import SupportDesk
        from app.services import Services
        from app.settings import Settings

        desk = SupportDesk(services=Services.from_settings(Settings(data_dir={str(data_dir)!r}, offline=True)))

        async def main():
            r = await desk.asend("How do I reset my password?", thread_id="t1")
            print("SENT", r.outcome, flush=True)

        asyncio.run(main())
    """)
    env = {**os.environ, "SUPPORT_OFFLINE": "true", "HF_HUB_OFFLINE": "1"}
    try:  # the timeout is a guard against the hang this test is about, not a measurement
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=240)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the script did not exit: {exc.stdout!r} {exc.stderr!r}")
    assert done.returncode == 0 and "SENT" in done.stdout, done.stderr[-2000:]


def test_desk_is_a_sync_and_an_async_context_manager(data_dir):
    import sqlite3

    with make_desk(data_dir) as desk:
        desk.send(refund(0), thread_id="s")
    with pytest.raises(sqlite3.ProgrammingError):  # the checkpointer's connection is closed
        desk.checkpointer.conn.execute("SELECT 1")

    def aiosqlite_threads() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]

    before = set(aiosqlite_threads())

    async def main():
        async with make_desk(data_dir) as adesk:
            await adesk.asend(refund(1), thread_id="a")
        return adesk

    adesk = asyncio.run(main())
    left = [t for t in aiosqlite_threads() if t not in before]
    for t in left:
        t.join(timeout=30)  # a guard: a closed connection's thread ends right after its last reply
    assert not [t for t in left if t.is_alive()], left
    with pytest.raises(sqlite3.ProgrammingError):
        adesk.checkpointer.conn.execute("SELECT 1")
