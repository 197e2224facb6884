"""Run metrics recorded as the graph runs: per-node timings and errors, per-turn outcomes and cost.

Operators read these (`python -m app stats`, the dashboard) to see what is running and failing.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from app.db import Database, connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS node_runs (
    ts REAL NOT NULL, thread_id TEXT NOT NULL, turn INTEGER NOT NULL, node TEXT NOT NULL,
    ms REAL NOT NULL, error TEXT);
CREATE INDEX IF NOT EXISTS node_runs_node ON node_runs(node, ts);
CREATE TABLE IF NOT EXISTS turns (
    ts REAL NOT NULL, thread_id TEXT NOT NULL, turn INTEGER NOT NULL, intent TEXT, outcome TEXT,
    llm_calls INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
    latency_ms REAL, PRIMARY KEY (thread_id, turn))
"""


class Metrics:
    def __init__(self, target: "str | Path | Database"):
        self.db = connect(target)
        self.db.script(SCHEMA)

    def node(self, thread_id: str, turn: int, node: str, ms: float, error: str | None = None) -> None:
        with self.db.connect() as c:
            c.execute("INSERT INTO node_runs VALUES (?, ?, ?, ?, ?, ?)", (time.time(), thread_id, turn, node, ms, error))

    def turn(self, thread_id: str, turn: int, intent: str | None, outcome: str | None, calls: list[dict],
             latency_ms: float | None) -> None:
        with self.db.connect() as c:
            c.execute(
                "INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id, turn) DO UPDATE SET "
                "ts = excluded.ts, intent = excluded.intent, outcome = excluded.outcome, llm_calls = excluded.llm_calls, "
                "prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens, "
                "latency_ms = excluded.latency_ms",
                (time.time(), thread_id, turn, intent, outcome, len(calls),
                 sum(c["input_tokens"] for c in calls), sum(c["output_tokens"] for c in calls), latency_ms))

    def summary(self, since: float = 0.0) -> dict:
        with self.db.connect() as c:
            nodes = c.all("SELECT node, ms, error FROM node_runs WHERE ts >= ?", (since,))
            turns = [tuple(r.values()) for r in c.all(
                "SELECT outcome, llm_calls, prompt_tokens, completion_tokens, latency_ms FROM turns WHERE ts >= ?", (since,))]
        per_node: dict[str, list] = {}
        for n in nodes:
            per_node.setdefault(n["node"], []).append((n["ms"], n["error"]))
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
