"""Many conversations at once through the async API: no errors, no cross-thread leakage."""

from __future__ import annotations

import asyncio

import pytest

from app.bench.concurrency import converse, leaks, make_desk

pytestmark = pytest.mark.slow


def _gather(desk, n: int, prefix: str):
    async def main():
        out = await converse(desk, n, prefix=prefix)
        await desk.aclose()
        return out

    return asyncio.run(main())


def test_forty_concurrent_conversations_stay_apart(data_dir):
    desk = make_desk(data_dir, latency_ms=20)
    results, _, _ = _gather(desk, 40, "c")
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors[:3]
    assert all(r.outcome == "ticket_created" for r in results)
    assert leaks(desk, results, prefix="c") == []
    tickets = desk.services.tickets.list(limit=1000)
    assert len(tickets) == 40 and len({t["thread_id"] for t in tickets}) == 40
    assert desk.services.audit.verify().ok  # concurrent writers kept the chain intact
    desk.close()


def test_leak_check_can_fail(data_dir):
    """Swap two results: the check must notice."""
    desk = make_desk(data_dir, latency_ms=0)
    results, _, _ = _gather(desk, 2, "s")
    assert leaks(desk, results, prefix="s") == []
    assert leaks(desk, list(reversed(results)), prefix="s") == ["s-0", "s-1"]
    desk.close()


def test_throughput_bench_times_a_bare_graph_with_the_desks_durability(data_dir):
    from app.bench.throughput import run
    from app.threads import INVOKES

    report = run(n=4, data_dir=data_dir)
    assert report["tickets"] == 4 and report["nodes_per_turn"] >= 10
    assert report["durability"] == {"save": INVOKES["save"]["durability"], "finish": INVOKES["finish"]["durability"]}
    assert min(report["bare_graph_per_s"], report["bare_graph_sync_per_s"], report["bare_graph_async_per_s"],
               report["tickets_per_s"]) > 0
