"""`python -m app bench inbox` (registered in app/cli/bench.py): the review inbox's page time at 100, 1,000 and
10,000 threads, on throwaway copies of the data directory.

Building 10,000 threads by running 10,000 turns would take minutes, so a handful of real turns run once through the
real graph (answered questions, and escalations of the five kinds of `bench review-groups`), and every other thread
is a copy of one of them, written through the checkpointer's own API (`list`, then `put` and `put_writes`: every
checkpoint of every namespace, with its pending writes, so a copied pause is a real pause that could be resumed).
The index is then built the way an existing deployment gets it (`rebuild`, what `review reindex` runs), which is
timed too. The timed call is a page of the inbox (`Reviews.inbox`, the call behind `review list`, GET /v1/reviews
and the console), also filtered for one reviewer and one queue; for contrast, a few calls of the way the inbox
read before the index (every thread's snapshot).
"""

from __future__ import annotations

import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.bench import NO_SYSTEMS
from app.bench.review_groups import KINDS, escalation
from app.review.inbox import read
from app.services import Services
from app.settings import Settings

STATE_FILES = ("checkpoints.sqlite*", "support.sqlite*", "vault.sqlite*")  # threads and stores: each size starts empty
QUESTIONS = ["How do I reset my password?", "What is your returns policy?", "How long does shipping take?"]


def _settings(data_dir: Path) -> Settings:
    # SQLite files in the throwaway dir
    return Settings(**NO_SYSTEMS, data_dir=data_dir, offline=True, database_url=None)


def _desk(data_dir: Path):
    from app.desk import SupportDesk  # lazy: ~2.5 s to import (the graph); the CLI imports this module at startup

    return SupportDesk(services=Services.from_settings(_settings(data_dir)))


def templates(desk, seed: int = 5) -> tuple[list[str], list[str]]:
    """(answered, paused) thread ids of real turns: the threads every other one is copied from."""
    rng = random.Random(seed)
    answered = [desk.send(q).thread_id for q in QUESTIONS]
    paused = []
    for kind in list(KINDS) * 2:
        r = desk.send(escalation(kind, rng), customer={"id": f"bench-{len(paused)}", "tier": "standard"})
        if r.pending_review:
            paused.append(r.thread_id)
    return answered, paused


def copy_thread(source, target, thread_id: str, new_id: str) -> None:
    """Every checkpoint of `thread_id` (all namespaces, oldest first) and its pending writes, as thread `new_id`."""
    for t in reversed(list(source.list({"configurable": {"thread_id": thread_id}}))):
        ns = t.config["configurable"]["checkpoint_ns"]
        parent = (t.parent_config or {}).get("configurable", {}).get("checkpoint_id")
        conf = {"configurable": {"thread_id": new_id, "checkpoint_ns": ns,
                                 **({"checkpoint_id": parent} if parent else {})}}
        saved = target.put(conf, t.checkpoint, t.metadata, t.checkpoint.get("channel_versions") or {})
        by_task: dict[str, list] = {}
        for task_id, channel, value in t.pending_writes or []:
            by_task.setdefault(task_id, []).append((channel, value))
        for task_id, writes in by_task.items():
            target.put_writes(saved, writes, task_id)


def _summary(seconds: list[float]) -> dict[str, float]:
    seconds = sorted(seconds)
    return {"calls": len(seconds), "median_ms": round(statistics.median(seconds) * 1000, 2),
            "p95_ms": round(seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))] * 1000, 2)}


def interleaved(calls: dict[int, Callable[[], Any]], rounds: int) -> dict[int, dict[str, float]]:
    """Each size's call timed `rounds` times, the sizes taking turns (in a rotating order) so that load from other
    processes on a shared machine falls on every size alike instead of on whichever ran while it peaked."""
    seconds: dict[int, list[float]] = {size: [] for size in calls}
    order = list(calls)
    for k in range(rounds):
        for size in order[k % len(order):] + order[:k % len(order)]:
            t = time.perf_counter()
            calls[size]()
            seconds[size].append(time.perf_counter() - t)
    return {size: _summary(s) for size, s in seconds.items()}


def _old_inbox(runner) -> list[str]:
    """The inbox before the index: every thread's snapshot, to find the paused ones."""
    return [tid for tid in runner.thread_ids() if read(runner, tid).interrupts]


def build(base: Path, source, answered: list[str], paused: list[str], size: int, paused_share: float,
          work: Path) -> tuple[Any, dict[str, Any]]:
    """A data dir of `size` threads (`paused_share` of them paused) and its index; (its desk, what was built)."""
    data = work / f"threads-{size}"
    shutil.copytree(base, data)
    desk = _desk(data)
    n_paused = max(1, round(size * paused_share))
    t = time.perf_counter()
    for k in range(size):
        pool = paused if k < n_paused else answered
        copy_thread(source, desk.checkpointer, pool[k % len(pool)], uuid.uuid4().hex)
    copy_s = time.perf_counter() - t
    runner = desk.runner
    t = time.perf_counter()
    built = runner.pending.rebuild(runner.thread_ids(), lambda tid: read(runner, tid))
    reindex_s = time.perf_counter() - t
    if not desk.reviews.count() == built["pending"] == n_paused:
        raise RuntimeError(f"{size} threads: {n_paused} paused were written, the index has {desk.reviews.count()}")
    return desk, {"threads": size, "paused": n_paused,
                  "build_seconds": {"copy": round(copy_s, 1), "reindex": round(reindex_s, 2)}}


def run(data_dir: Path, sizes: tuple[int, ...] = (100, 1000, 10000), paused_share: float = 0.25, limit: int = 25,
        calls: int = 300) -> dict[str, Any]:
    from app.bench.crash import ready

    desks: dict[int, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        base = work / "base"
        shutil.copytree(data_dir, base)
        for pattern in STATE_FILES:
            for f in base.glob(pattern):
                f.unlink()
        ready(Services.from_settings(_settings(base)))  # ingested and trained, once
        source_dir = work / "templates"
        shutil.copytree(base, source_dir)
        source = _desk(source_dir)
        try:
            answered, paused = templates(source)
            results = {}
            for n in sizes:
                desks[n], results[n] = build(base, source.checkpointer, answered, paused, n, paused_share, work)
            for n, desk in desks.items():  # warm (imports, caches), and how many items each timed page has
                results[n]["page_items"] = {"inbox": len(desk.reviews.inbox(limit=limit)),
                                            "mine_bo": len(desk.reviews.inbox(reviewer="bo", limit=limit)),
                                            "queue_billing": len(desk.reviews.inbox(queue="billing", limit=limit))}
            page = interleaved({n: (lambda d=d: d.reviews.inbox(limit=limit)) for n, d in desks.items()}, calls)
            mine = interleaved({n: (lambda d=d: d.reviews.inbox(reviewer="bo", limit=limit))
                                for n, d in desks.items()}, max(1, calls // 4))
            queue = interleaved({n: (lambda d=d: d.reviews.inbox(queue="billing", limit=limit))
                                 for n, d in desks.items()}, max(1, calls // 4))
            old = {n: _summary([_timed(lambda d=d: _old_inbox(d.runner)) for _ in range(3 if n > 2000 else 10)])
                   for n, d in desks.items()}
        finally:
            for desk in desks.values():
                desk.close()
            source.close()
    first = page[sizes[0]]
    out = []
    for n in sizes:
        out.append({**results[n], "inbox": page[n], "inbox_mine_bo": mine[n], "inbox_queue_billing": queue[n],
                    "old_inbox_scan": old[n], "p95_ratio_to_smallest": round(page[n]["p95_ms"] / first["p95_ms"], 2),
                    "median_ratio_to_smallest": round(page[n]["median_ms"] / first["median_ms"], 2)})
    return {"sizes": list(sizes), "paused_share": paused_share, "limit": limit, "templates":
            {"answered": len(answered), "paused": len(paused)}, "results": out,
            "target": "p95 at every size within 2x of the smallest",
            "met": all(r["p95_ratio_to_smallest"] <= 2.0 for r in out)}


def _timed(call: Callable[[], Any]) -> float:
    t = time.perf_counter()
    call()
    return time.perf_counter() - t
