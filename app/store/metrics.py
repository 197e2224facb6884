"""Run metrics recorded as the graph runs: per-node timings and errors, per-turn outcomes and cost, model warm-up.

Operators read these (`python -m app stats`, the dashboard) to see what is running and failing.

A turn's `latency_ms` is the machine's work: the sum of its nodes' durations (a node that paused for a review
raised an interrupt and is not recorded; its re-run on the decision is). The turn's wall time, which includes a
human's review wait, is kept beside it in `wall_ms`, and that wait in `review_wait_ms`. Loading a model is
warm-up, recorded in `warmups` and taken out of the node that happened to trigger it (`warmup_ms` of the
node_runs row), so the first turn after a start does not count the model load as triage latency.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from pathlib import Path

from app import telemetry
from app.store.db import Database, connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS node_runs (
    ts REAL NOT NULL, thread_id TEXT NOT NULL, turn INTEGER NOT NULL, node TEXT NOT NULL,
    ms REAL NOT NULL, error TEXT);
CREATE INDEX IF NOT EXISTS node_runs_node ON node_runs(node, ts);
CREATE INDEX IF NOT EXISTS node_runs_turn ON node_runs(thread_id, turn);
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
    failures TEXT NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (agent, intent));
CREATE TABLE IF NOT EXISTS warmups (
    ts REAL NOT NULL, component TEXT NOT NULL, ms REAL NOT NULL)
"""
# Added after the first release: tables created by an older version get them on open (SQLite and PostgreSQL).
COLUMNS = (("turns", "wall_ms", "REAL"), ("turns", "review_wait_ms", "REAL"), ("node_runs", "warmup_ms", "REAL"),
           ("turns", "kind", "TEXT"), ("turns", "by_desk", "INTEGER"))
_LLM_COLUMNS = ("calls", "prompt_tokens", "completion_tokens", "failed")
AGENT_OF_NODE = {"classify": "triage", "classify_llm": "triage", "enrich": "triage",
                 "retrieve": "research", "answer": "research", "check_grounding": "research",
                 "evaluate": "compliance", "review": "compliance", "open_ticket": "ticketing", "notify": "ticketing",
                 "gather_facts": "compliance", "recheck": "compliance", "execute": "ticketing",
                 "from_order": "research"}
REVIEW_NODES = ("review",)

# Warm-ups not yet taken out of a node, per OS thread: a node runs, and records itself, on one thread.
_pending = threading.local()


def _take_warmups(since: float) -> float:
    """Warm-up ms recorded on this thread since `since` (the node's start); forgets every pending entry."""
    entries, _pending.entries = getattr(_pending, "entries", []), []
    return sum(ms for ts, ms in entries if ts >= since)


class Metrics:
    def __init__(self, target: str | Path | Database, prices: dict[str, tuple[float, float]] | None = None):
        self.db = connect(target)
        self.prices = prices or {}  # USD per million (input, output) tokens per model: Settings.model_prices
        self.db.script(SCHEMA)
        for table, column, decl in COLUMNS:
            self.db.add_column(table, column, decl)

    def node(self, thread_id: str, turn: int, node: str, ms: float, error: str | None = None) -> None:
        now = time.time()
        warm = min(ms, _take_warmups(now - ms / 1000))  # a model this node loaded is warm-up, not its work
        with self.db.connect() as c:
            c.execute("INSERT INTO node_runs (ts, thread_id, turn, node, ms, error, warmup_ms) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (now, thread_id, turn, node, round(ms - warm, 3), error, round(warm, 3) if warm else None))
            if error:  # the turn ends here: record it as an error unless it still completes (respond updates it)
                c.execute("INSERT INTO turns (ts, thread_id, turn, outcome, llm_calls, prompt_tokens, "
                          "completion_tokens) VALUES (?, ?, ?, 'error', 0, 0, 0) "
                          "ON CONFLICT (thread_id, turn) DO NOTHING", (now, thread_id, turn))

    def warmup(self, component: str, ms: float) -> None:
        """A model loaded (and first used) in this process: recorded on its own, and taken out of the node that
        triggered it, if one did (see `node`)."""
        now = time.time()
        entries = getattr(_pending, "entries", [])
        entries.append((now, ms))
        _pending.entries = entries[-16:]
        with self.db.connect() as c:
            c.execute("INSERT INTO warmups (ts, component, ms) VALUES (?, ?, ?)", (now, component, round(ms, 3)))

    def turn(self, thread_id: str, turn: int, intent: str | None, outcome: str | None, calls: list[dict],
             latency_ms: float | None, kind: str | None = None, by_desk: bool = False) -> None:
        """Record a finished turn. `latency_ms` is its wall time as the caller saw it (from the message to the
        reply, review wait included); the machine time stored as `latency_ms` is summed from its node runs."""
        with self.db.connect() as c:
            ran = c.all("SELECT node, ms FROM node_runs WHERE thread_id = ? AND turn = ?", (thread_id, turn))
            machine = round(sum(r["ms"] for r in ran), 2)
            reviewed = any(r["node"] in REVIEW_NODES for r in ran)
            wait = round(max(0.0, latency_ms - machine), 2) if reviewed and latency_ms is not None else None
            fresh = c.one("SELECT 1 AS x FROM turns WHERE thread_id = ? AND turn = ?", (thread_id, turn)) is None
            c.execute(
                "INSERT INTO turns (ts, thread_id, turn, intent, outcome, llm_calls, prompt_tokens, completion_tokens, "
                "latency_ms, wall_ms, review_wait_ms, kind, by_desk) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (thread_id, turn) DO UPDATE SET "
                "ts = excluded.ts, intent = excluded.intent, outcome = excluded.outcome, "
                "llm_calls = excluded.llm_calls, prompt_tokens = excluded.prompt_tokens, "
                "completion_tokens = excluded.completion_tokens, latency_ms = excluded.latency_ms, "
                "wall_ms = excluded.wall_ms, review_wait_ms = excluded.review_wait_ms, kind = excluded.kind, "
                "by_desk = excluded.by_desk",
                (time.time(), thread_id, turn, intent, outcome, len(calls),
                 sum(c["input_tokens"] for c in calls), sum(c["output_tokens"] for c in calls), machine,
                 latency_ms, wait, kind, int(bool(by_desk))))
            for call in calls:  # per agent and model; a resumed turn reports its calls again, stored once
                c.execute("INSERT INTO llm_usage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                          (call.get("id") or f"{thread_id}:{turn}:{call['agent']}:{id(call)}", time.time(), thread_id,
                           turn, call["agent"], call.get("model"), call["input_tokens"], call["output_tokens"],
                           call.get("error")))
        if fresh:  # /metrics counts a turn once, however often it is recorded (a resumed turn, a replay)
            telemetry.record_turn(intent, outcome, machine, calls, self.prices)

    def turn_times(self, thread_id: str) -> list[dict]:
        """One thread's turns: machine `latency_ms`, `wall_ms` and `review_wait_ms`, oldest first."""
        with self.db.connect() as c:
            return c.all("SELECT turn, outcome, latency_ms, wall_ms, review_wait_ms FROM turns WHERE thread_id = ? "
                         "ORDER BY turn", (thread_id,))

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
            turns = c.all("SELECT outcome, llm_calls, prompt_tokens, latency_ms, wall_ms, review_wait_ms, kind, "
                          "by_desk FROM turns WHERE ts >= ?", (since,))
            llm = c.all("SELECT agent, COUNT(*) AS calls, SUM(input_tokens) AS prompt_tokens, SUM(output_tokens) "
                        "AS completion_tokens, SUM(CASE WHEN error IS NULL THEN 0 ELSE 1 END) AS failed "
                        "FROM llm_usage WHERE ts >= ? GROUP BY agent ORDER BY agent", (since,))
            warm = c.all("SELECT component, ms FROM warmups WHERE ts >= ?", (since,))
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
        outcomes: dict[str, int] = {}
        for t in turns:
            outcomes[t["outcome"] or "unknown"] = outcomes.get(t["outcome"] or "unknown", 0) + 1
        n = len(turns)
        machine = spread(t["latency_ms"] for t in turns)
        warmups: dict[str, list] = {}
        for w in warm:
            warmups.setdefault(w["component"], []).append(w["ms"])
        return {
            "turns": n,
            "outcomes": outcomes,
            "without_person": without_person(turns),
            "llm_calls_per_turn": round(statistics.fmean(t["llm_calls"] for t in turns), 3) if n else 0.0,
            "prompt_tokens_per_turn": round(statistics.fmean(t["prompt_tokens"] for t in turns), 1) if n else 0.0,
            "turn_latency_ms_p50": machine["p50"] or 0.0,  # machine time; kept for readers of the old key
            "turn_latency_ms": machine,  # machine time: the turn's node runs, no human wait, no model load
            "turn_wall_ms": spread(t["wall_ms"] for t in turns),
            "review_wait_ms": spread(t["review_wait_ms"] for t in turns),
            "warmup_ms": {k: {"n": len(v), "total": round(sum(v), 1), "max": round(max(v), 1)}
                          for k, v in sorted(warmups.items())},
            "agents": agents,
            "by_agent": {a: {"node_runs": len(rows), "total_ms": round(sum(r[0] for r in rows), 1),
                             "errors": sum(1 for r in rows if r[1])} for a, rows in sorted(by_agent.items())},
            "llm_by_agent": {r["agent"]: {k: int(r[k] or 0) for k in _LLM_COLUMNS} for r in llm},
        }


def without_person(turns: list[dict]) -> dict:
    """Per kind of turn (question, action): how many settled, how many by the desk alone, and the share. Turns
    recorded before the kind was (kind NULL) and turns that settle nothing are left out, not counted as misses."""
    out = {}
    for kind in ("question", "action"):
        mine = [t for t in turns if t.get("kind") == kind]
        done = sum(1 for t in mine if t.get("by_desk"))
        out[kind] = {"turns": len(mine), "by_desk": done, "share": round(done / len(mine), 4) if mine else None}
    return out


def spread(values) -> dict:
    """n, p50, p95 and max of the non-null values (None for each figure when there are none)."""
    s = sorted(v for v in values if v is not None)
    if not s:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    return {"n": len(s), "p50": round(percentile(s, 0.5), 1), "p95": round(percentile(s, 0.95), 1),
            "max": round(s[-1], 1)}


def percentile(values, q: float) -> float:
    """Nearest-rank percentile (0.0 for no values): the one definition stats, evals and benches report."""
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))] if s else 0.0
