"""Read-only queries behind the operations dashboard and a conversation's recorded steps.

Everything comes from what the runs recorded: node timings and turn outcomes (app/store/metrics.py),
tickets, the audit trail and the checkpointer. Nothing is re-estimated here; the functions
only select, bucket and aggregate those rows.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from app import telemetry
from app.store.checkpoints import thread_ids
from app.store.metrics import AGENT_OF_NODE

DONE = ("answered", "ticket_created")


def rows(store: Any, sql: str, params: tuple = ()) -> list[dict]:
    """Run a SELECT through a store's own database handle (SQLite dialect, `?` placeholders)."""
    db = getattr(store, "db", None)
    if db is not None:
        with db.connect() as c:
            return c.all(sql, params)
    with sqlite3.connect(store.path, timeout=30) as conn:  # stores that keep a plain SQLite path
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params).fetchall()]


def _frame(data: list[dict], columns: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(data, columns=columns)
    if "ts" in df:
        df["time"] = pd.to_datetime(df["ts"], unit="s", utc=True)
    return df


def node_runs(svc, since: float) -> pd.DataFrame:
    data = rows(svc.metrics, "SELECT ts, thread_id, turn, node, ms, error FROM node_runs WHERE ts >= ?", (since,))
    df = _frame(data, ["ts", "thread_id", "turn", "node", "ms", "error"])
    df["agent"] = df["node"].map(lambda n: AGENT_OF_NODE.get(n, "supervisor"))  # intake, supervise, respond
    return df


def turns(svc, since: float) -> pd.DataFrame:
    data = rows(svc.metrics, "SELECT ts, thread_id, turn, intent, outcome, llm_calls, prompt_tokens, "
                "completion_tokens, latency_ms, review_wait_ms FROM turns WHERE ts >= ?", (since,))
    return _frame(data, ["ts", "thread_id", "turn", "intent", "outcome", "llm_calls", "prompt_tokens",
                         "completion_tokens", "latency_ms", "review_wait_ms"])


def tickets(svc, since: float) -> pd.DataFrame:
    data = rows(svc.tickets, "SELECT id, thread_id, intent, status, priority, queue, reviewer, llm_calls, tokens, "
                "created_at AS ts FROM tickets WHERE created_at >= ?", (since,))
    return _frame(data, ["id", "thread_id", "intent", "status", "priority", "queue", "reviewer", "llm_calls",
                         "tokens", "ts"])


def llm_cost(svc, since: float) -> list[dict]:
    """LLM calls, tokens and their cost in USD per model (Settings.model_prices), from every recorded call."""
    data = rows(svc.metrics, "SELECT model, COUNT(*) AS calls, SUM(input_tokens) AS input_tokens, "
                "SUM(output_tokens) AS output_tokens FROM llm_usage WHERE ts >= ? GROUP BY model", (since,))
    prices = svc.metrics.prices
    return [{**r, "usd": telemetry.usd(r["model"], r["input_tokens"] or 0, r["output_tokens"] or 0, prices)}
            for r in data]


WORK = {"reply": "Replies", "note": "Notes", "status": "Status changes", "assign": "Assignments",
        "review": "Reviews decided"}


def workload(svc, since: float) -> pd.DataFrame:
    """Per team member: replies, notes, status changes and assignments on tickets (the ticket events), and reviews
    decided (the audit trail), one row each."""
    data = rows(svc.tickets, "SELECT actor, kind, COUNT(*) AS n FROM ticket_events WHERE created_at >= ? "
                "AND kind IN ('reply', 'note', 'status', 'assign') GROUP BY actor, kind", (since,))
    decided = rows(svc.audit, "SELECT actor, COUNT(*) AS n FROM audit WHERE event = 'review_decision' AND ts >= ? "
                   "GROUP BY actor", (since,))
    data += [{"actor": r["actor"].removeprefix("reviewer:"), "kind": "review", "n": r["n"]} for r in decided]
    frame = _frame(data, ["actor", "kind", "n"])
    if frame.empty:
        return pd.DataFrame(columns=["Team member", *WORK.values()])
    table = frame.pivot_table(index="actor", columns="kind", values="n", aggfunc="sum", fill_value=0)
    table = table.reindex(columns=list(WORK), fill_value=0).rename(columns=WORK)
    return table.rename_axis("Team member").reset_index()


def escalations(svc, since: float) -> pd.DataFrame:
    """Policy decisions that sent an action to a human (the audit reason starts with the effect)."""
    data = rows(svc.audit, "SELECT ts, thread_id, reason FROM audit WHERE event = 'policy_decision' AND ts >= ?",
                (since,))
    df = _frame(data, ["ts", "thread_id", "reason"])
    return df[df["reason"].str.startswith("review")]


def rates(nodes: pd.DataFrame, turn_rows: pd.DataFrame, esc: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Per time bucket: turns started (intake runs) and the share completed by the desk, sent to review and
    failed: shares of one total, so they add up (with turns still running) to 100%. A turn a person reviewed counts
    as escalated, not also as completed, though it finished once decided (the walk-through read 85% + 31%).

    A failed turn is one with a recorded node error (the run stopped, no outcome was written) or
    an `error` outcome (bad input)."""
    started = nodes[nodes["node"] == "intake"]
    if started.empty:
        return pd.DataFrame(columns=["started", "completion_rate", "escalation_rate", "error_rate"])
    keys = ["thread_id", "turn", "time"]
    failed = pd.concat([nodes.loc[nodes["error"].notna(), keys], turn_rows.loc[turn_rows["outcome"] == "error", keys]])
    failed = failed.sort_values("time").drop_duplicates(["thread_id", "turn"])  # a turn fails once

    def count(df: pd.DataFrame) -> pd.Series:
        return df.groupby(df["time"].dt.floor(freq)).size() if not df.empty else pd.Series(dtype=float)

    out = pd.DataFrame({"started": count(started)})
    out["completed"] = count(turn_rows[turn_rows["outcome"].isin(DONE) & turn_rows["review_wait_ms"].isna()])
    out["escalated"] = count(esc)
    out["failed"] = count(failed)
    out = out.fillna(0)
    for name, col in (("completion_rate", "completed"), ("escalation_rate", "escalated"), ("error_rate", "failed")):
        out[name] = (out[col] / out["started"].where(out["started"] > 0)).round(3)
    return out.fillna(0)


def agent_latency(nodes: pd.DataFrame) -> pd.DataFrame:
    """Per agent: its time per turn (sum of its nodes' durations), p50/p95, and the share of turns it failed."""
    if nodes.empty:
        return pd.DataFrame(columns=["agent", "runs", "p50_ms", "p95_ms", "failure_rate"])
    per_turn = nodes.groupby(["agent", "thread_id", "turn"]).agg(
        ms=("ms", "sum"), failed=("error", lambda e: e.notna().any()))
    g = per_turn.groupby("agent")
    out = pd.DataFrame({
        "runs": g.size(),
        "p50_ms": g["ms"].quantile(0.5, interpolation="nearest").round(1),
        "p95_ms": g["ms"].quantile(0.95, interpolation="nearest").round(1),
        "failure_rate": g["failed"].mean().round(4),
    })
    return out.reset_index()


def latency_over_time(nodes: pd.DataFrame, freq: str) -> pd.DataFrame:
    """p95 per agent per time bucket (rows: bucket, columns: agent)."""
    if nodes.empty:
        return pd.DataFrame()
    per_turn = nodes.groupby(["agent", "thread_id", "turn"]).agg(ms=("ms", "sum"), time=("time", "min")).reset_index()
    per_turn["bucket"] = per_turn["time"].dt.floor(freq)
    return per_turn.pivot_table(index="bucket", columns="agent", values="ms",
                                aggfunc=lambda s: s.quantile(0.95, interpolation="nearest"))


def workflows(desk, limit: int = 500) -> pd.DataFrame:
    """State of the newest `limit` threads from the checkpointer: paused (waiting for a review),
    running (a run is between nodes, or stopped mid-way) or idle, with their last checkpoint time."""
    out = []
    for tid in thread_ids(desk.checkpointer, limit=limit):
        snap = desk.runner.snapshot(tid)
        state = "paused" if snap.interrupts else "running" if snap.next else "idle"
        out.append({"thread_id": tid, "state": state, "outcome": (snap.values or {}).get("outcome"),
                    "updated": _parse_time(snap.created_at)})
    df = pd.DataFrame(out, columns=["thread_id", "state", "outcome", "updated"])
    df["updated"] = pd.to_datetime(df["updated"], utc=True)
    return df


def _parse_time(iso: str | None) -> datetime | None:
    if not iso:
        return None
    dt = datetime.fromisoformat(iso)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def age_buckets(items: list[dict]) -> pd.Series:
    """Pending reviews per age band."""
    bands = ["< 1h", "1–4h", "4–24h", "> 24h"]
    counts = dict.fromkeys(bands, 0)
    for i in items:
        h = i["age_seconds"] / 3600
        counts[bands[0 if h < 1 else 1 if h < 4 else 2 if h < 24 else 3]] += 1
    return pd.Series(counts, name="pending")

