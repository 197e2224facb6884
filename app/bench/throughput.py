"""Throughput bench: tickets/s through the full supervisor graph (LLM mode with a 0-latency fake model,
SQLite checkpointer, all stores), and in the same run a bare LangGraph chain with as many nodes as a
ticket turn executes, on its own SQLite checkpointer with the desk's durability (and, for reference, LangGraph's
default): the framework's floor on this machine.

    python -m app bench throughput [--n 200]
"""

from __future__ import annotations

import operator
import tempfile
import time
from itertools import pairwise
from pathlib import Path
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph

from app.bench.concurrency import make_desk, message, single_threaded_torch
from app.bench.crash import prepare
from app.store.checkpoints import sqlite_checkpointer


class Steps(TypedDict):
    steps: Annotated[list[str], operator.add]


def bare_graph(nodes: int, checkpointer):
    builder = StateGraph(Steps)
    names = [f"n{i}" for i in range(nodes)]
    for name in names:
        builder.add_node(name, lambda state, _n=name: {"steps": [_n]})
    builder.add_edge(START, names[0])
    for a, b in pairwise(names):
        builder.add_edge(a, b)
    builder.add_edge(names[-1], END)
    return builder.compile(checkpointer=checkpointer)


def _nodes_per_turn(desk, thread_id: str) -> int:
    with desk.services.metrics.db.connect() as c:
        return int(c.one("SELECT COUNT(*) AS n FROM node_runs WHERE thread_id = ?", (thread_id,))["n"])


def _bare_turn(bare, thread_id: str, durability: str, invokes: dict) -> None:
    """One run of the bare chain. "desk" runs it the way the desk runs a turn (app/threads.py: the input saved
    with one checkpoint, then the run to its end); any other value is a LangGraph durability for the whole run."""
    config = {"configurable": {"thread_id": thread_id}}
    if durability != "desk":
        bare.invoke({"steps": []}, config, durability=durability)
        return
    bare.invoke({"steps": []}, config, durability=invokes["save"]["durability"], interrupt_before=["n0"])
    bare.invoke(None, config, durability=invokes["finish"]["durability"])


def _time_bare(bare, n: int, durability: str, invokes: dict) -> float:
    _bare_turn(bare, f"warm-{durability}", durability, invokes)
    start = time.perf_counter()
    for i in range(n):
        _bare_turn(bare, f"bare-{durability}-{i}", durability, invokes)
    return time.perf_counter() - start


def run(n: int = 200, data_dir: Path | None = None) -> dict:
    from app.threads import INVOKES  # lazy: ~2.5 s to import (the graph); the CLI imports this module at startup

    single_threaded_torch()
    tmp = tempfile.TemporaryDirectory(prefix="supportflow-tput-")
    if data_dir is None:
        data_dir = Path(tmp.name) / "data"
        prepare(data_dir)
    desk = make_desk(data_dir, latency_ms=0)
    for i in range(3):  # warm-up: model load, classifier, first checkpoints
        desk.send(message(i), thread_id=f"warm-{i}")
    nodes = _nodes_per_turn(desk, "warm-0")

    start = time.perf_counter()
    results = [desk.send(message(i), thread_id=f"tput-{i}") for i in range(n)]
    full_s = time.perf_counter() - start
    tickets = sum(1 for r in results if r.ticket_id)

    bare = bare_graph(nodes, sqlite_checkpointer(Path(tmp.name) / "bare.sqlite"))
    bare_s = {mode: _time_bare(bare, n, mode, INVOKES) for mode in ("desk", "sync", "async")}
    embedder = desk.services.embedder
    report = {
        "n": n, "tickets": tickets, "nodes_per_turn": nodes,
        "tickets_per_s": round(tickets / full_s, 2), "full_ms_per_turn": round(full_s / n * 1000, 2),
        "durability": {kind: opts["durability"] for kind, opts in INVOKES.items() if kind != "invoke"},
        # the same checkpointer and durability as the desk: what LangGraph itself costs for a run this long
        "bare_graph_per_s": round(n / bare_s["desk"], 2),
        "bare_ms_per_run": round(bare_s["desk"] / n * 1000, 2),
        "overhead_vs_bare": round(full_s / bare_s["desk"], 2),
        # every step's checkpoint written before the next step, as the desk ran whole turns before
        "bare_graph_sync_per_s": round(n / bare_s["sync"], 2),
        # LangGraph's default durability writes each checkpoint while the next step runs (not crash-safe here)
        "bare_graph_async_per_s": round(n / bare_s["async"], 2),
        "overhead_vs_bare_async": round(full_s / bare_s["async"], 2),
        "embedding_cache_hit_rate": round(embedder.hits / max(1, embedder.hits + embedder.misses), 3)
        if hasattr(embedder, "hits") else None,
    }
    desk.close()
    tmp.cleanup()
    return report
