"""Run metrics recorded as the graph runs: per-node timings and errors, per-turn outcomes and cost.

Operators read these (`python -m app stats`, the dashboard) to see what is running and failing.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from app.store.db import Database, connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS node_runs (
    ts REAL NOT NULL, thread_id TEXT NOT NULL, turn INTEGER NOT NULL, node TEXT NOT NULL,
    ms REAL NOT NULL, error TEXT);
CREATE INDEX IF NOT EXISTS node_runs_node ON node_runs(node, ts);
CREATE TABLE IF NOT EXISTS turns (
    ts REAL NOT NULL, thread_id TEXT NOT NULL, turn INTEGER NOT NULL, intent TEXT, outcome TEXT,
    llm_calls INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
    latency_ms REAL, PRIMARY KEY (thread_id, turn));
CREATE TABLE IF NOT EXISTS llm_usage (
    id TEXT PRIMARY KEY, ts REAL NOT NULL, thread_id TEXT NOT NULL, turn INTEGER NOT NULL, agent TEXT NOT NULL,
    model TEXT, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, error TEXT);
CREATE INDEX IF NOT EXISTS llm_usage_ts ON llm_usage(ts);
CREATE TABLE IF NOT EXISTS reliability (
    agent TEXT NOT NULL, intent TEXT NOT NULL, score REAL NOT NULL, weight REAL NOT NULL, trials INTEGER NOT NULL,
    failures TEXT NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (agent, intent))
"""
_LLM_COLUMNS = ("calls", "prompt_tokens", "completion_tokens", "failed")
AGENT_OF_NODE = {"classify": "triage", "classify_llm": "triage", "enrich": "triage",
                 "retrieve": "research", "answer": "research", "check_grounding": "research",
                 "evaluate": "compliance", "review": "compliance", "open_ticket": "ticketing", "notify": "ticketing"}


class Metrics:
    def __init__(self, target: str | Path | Database):
        self.db = connect(target)
        self.db.script(SCHEMA)

    def node(self, thread_id: str, turn: int, node: str, ms: float, error: str | None = None) -> None:
        with self.db.connect() as c:
            c.execute("INSERT INTO node_runs VALUES (?, ?, ?, ?, ?, ?)",
                      (time.time(), thread_id, turn, node, ms, error))
            if error:  # the turn ends here: record it as an error unless it still completes (respond updates it)
                c.execute("INSERT INTO turns VALUES (?, ?, ?, NULL, 'error', 0, 0, 0, NULL) "
                          "ON CONFLICT (thread_id, turn) DO NOTHING", (time.time(), thread_id, turn))

    def turn(self, thread_id: str, turn: int, intent: str | None, outcome: str | None, calls: list[dict],
             latency_ms: float | None) -> None:
        with self.db.connect() as c:
            c.execute(
                "INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (thread_id, turn) DO UPDATE SET "
                "ts = excluded.ts, intent = excluded.intent, outcome = excluded.outcome, "
                "llm_calls = excluded.llm_calls, prompt_tokens = excluded.prompt_tokens, "
                "completion_tokens = excluded.completion_tokens, latency_ms = excluded.latency_ms",
                (time.time(), thread_id, turn, intent, outcome, len(calls),
                 sum(c["input_tokens"] for c in calls), sum(c["output_tokens"] for c in calls), latency_ms))
            for call in calls:  # per agent and model; a resumed turn reports its calls again, stored once
                c.execute("INSERT INTO llm_usage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                          (call.get("id") or f"{thread_id}:{turn}:{call['agent']}:{id(call)}", time.time(), thread_id,
                           turn, call["agent"], call.get("model"), call["input_tokens"], call["output_tokens"],
                           call.get("error")))

    def errors(self, since: float = 0.0) -> list[dict]:
        """Failed node runs (thread, turn, node, error) since a time: input to reliability scoring."""
        with self.db.connect() as c:
            return c.all("SELECT ts, thread_id, turn, node, error FROM node_runs WHERE error IS NOT NULL AND ts >= ?",
                         (since,))

    def save_reliability(self, rows: list[dict]) -> None:
        """Replace the reliability table with freshly computed scores (derived data, recomputable)."""
        with self.db.transaction(lock="supportflow-reliability") as c:
            c.execute("DELETE FROM reliability")
            for r in rows:
                c.execute("INSERT INTO reliability VALUES (?, ?, ?, ?, ?, ?, ?)",
                          (r["agent"], r["intent"], r["score"], r["weight"], r["trials"],
                           json.dumps(r["failures"], sort_keys=True), r["updated_at"]))

    def reliability(self) -> list[dict]:
        with self.db.connect() as c:
            rows = c.all("SELECT * FROM reliability ORDER BY score, agent, intent")
        return [{**r, "failures": json.loads(r["failures"])} for r in rows]

    def summary(self, since: float = 0.0) -> dict:
        with self.db.connect() as c:
            nodes = c.all("SELECT node, ms, error FROM node_runs WHERE ts >= ?", (since,))
            turns = [tuple(r.values()) for r in c.all(
                "SELECT outcome, llm_calls, prompt_tokens, completion_tokens, latency_ms FROM turns WHERE ts >= ?",
                (since,))]
        per_node: dict[str, list] = {}
        for n in nodes:
            per_node.setdefault(n["node"], []).append((n["ms"], n["error"]))
        agents = {}
        for node, rows in sorted(per_node.items()):
            ms = sorted(r[0] for r in rows)
            agents[node] = {"runs": len(rows), "p50_ms": round(percentile(ms, 0.5), 2),
                            "p95_ms": round(percentile(ms, 0.95), 2),
                            "failure_rate": round(sum(1 for r in rows if r[1]) / len(rows), 4)}
        by_agent: dict[str, list] = {}
        for node, rows in per_node.items():
            by_agent.setdefault(AGENT_OF_NODE.get(node, "supervisor"), []).extend(rows)
        with self.db.connect() as c:
            llm = c.all("SELECT agent, COUNT(*) AS calls, SUM(input_tokens) AS prompt_tokens, SUM(output_tokens) "
                        "AS completion_tokens, SUM(CASE WHEN error IS NULL THEN 0 ELSE 1 END) AS failed "
                        "FROM llm_usage WHERE ts >= ? GROUP BY agent ORDER BY agent", (since,))
        outcomes: dict[str, int] = {}
        for t in turns:
            outcomes[t[0] or "unknown"] = outcomes.get(t[0] or "unknown", 0) + 1
        n = len(turns)
        return {
            "turns": n,
            "outcomes": outcomes,
            "llm_calls_per_turn": round(statistics.fmean(t[1] for t in turns), 3) if n else 0.0,
            "prompt_tokens_per_turn": round(statistics.fmean(t[2] for t in turns), 1) if n else 0.0,
            "turn_latency_ms_p50": round(percentile(sorted(t[4] or 0 for t in turns), 0.5), 1),
            "agents": agents,
            "by_agent": {a: {"node_runs": len(rows), "total_ms": round(sum(r[0] for r in rows), 1),
                             "errors": sum(1 for r in rows if r[1])} for a, rows in sorted(by_agent.items())},
            "llm_by_agent": {r["agent"]: {k: int(r[k] or 0) for k in _LLM_COLUMNS} for r in llm},
        }


def percentile(values, q: float) -> float:
    """Nearest-rank percentile (0.0 for no values): the one definition stats, evals and benches report."""
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))] if s else 0.0
