"""Run metrics recorded as the graph runs: per-node timings and errors, per-turn outcomes and cost.

Operators read these (`python -m app stats`, the dashboard) to see what is running and failing.
"""

from __future__ import annotations

import sqlite3
import statistics
import threading
import time
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS node_runs (
    ts REAL NOT NULL, thread_id TEXT NOT NULL, turn INTEGER NOT NULL, node TEXT NOT NULL,
    ms REAL NOT NULL, error TEXT);
CREATE INDEX IF NOT EXISTS node_runs_node ON node_runs(node, ts);
CREATE TABLE IF NOT EXISTS turns (
    ts REAL NOT NULL, thread_id TEXT NOT NULL, turn INTEGER NOT NULL, intent TEXT, outcome TEXT,
    llm_calls INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
    latency_ms REAL, PRIMARY KEY (thread_id, turn));
"""


class Metrics:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(SCHEMA)

    def node(self, thread_id: str, turn: int, node: str, ms: float, error: str | None = None) -> None:
        with self._lock:
            self._conn.execute("INSERT INTO node_runs VALUES (?, ?, ?, ?, ?, ?)",
                               (time.time(), thread_id, turn, node, ms, error))

    def turn(self, thread_id: str, turn: int, intent: str | None, outcome: str | None, calls: list[dict],
             latency_ms: float | None) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO turns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), thread_id, turn, intent, outcome, len(calls),
                 sum(c["input_tokens"] for c in calls), sum(c["output_tokens"] for c in calls), latency_ms))

    def summary(self, since: float = 0.0) -> dict:
        with self._lock:
            nodes = self._conn.execute("SELECT node, ms, error FROM node_runs WHERE ts >= ?", (since,)).fetchall()
            turns = self._conn.execute(
                "SELECT outcome, llm_calls, prompt_tokens, completion_tokens, latency_ms FROM turns WHERE ts >= ?",
                (since,)).fetchall()
        per_node: dict[str, list] = {}
        for node, ms, error in nodes:
            per_node.setdefault(node, []).append((ms, error))
        agents = {}
        for node, rows in sorted(per_node.items()):
            ms = sorted(r[0] for r in rows)
            agents[node] = {"runs": len(rows), "p50_ms": round(_pct(ms, 0.5), 2), "p95_ms": round(_pct(ms, 0.95), 2),
                            "failure_rate": round(sum(1 for r in rows if r[1]) / len(rows), 4)}
        outcomes: dict[str, int] = {}
        for t in turns:
            outcomes[t[0] or "unknown"] = outcomes.get(t[0] or "unknown", 0) + 1
        n = len(turns)
        return {
            "turns": n,
            "outcomes": outcomes,
            "llm_calls_per_turn": round(statistics.fmean(t[1] for t in turns), 3) if n else 0.0,
            "prompt_tokens_per_turn": round(statistics.fmean(t[2] for t in turns), 1) if n else 0.0,
            "turn_latency_ms_p50": round(_pct(sorted(t[4] or 0 for t in turns), 0.5), 1),
            "agents": agents,
        }


def _pct(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(round(q * (len(sorted_values) - 1))))]
