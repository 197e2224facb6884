"""Operations page: workflows, review backlog, outcome rates, agent latency, volume by intent and queue, ticket
response times, workload per person, LLM usage and cost, over time, and CSV export (app/ui/dashboard_team.py).
Re-read every 30 s (`st.fragment(run_every=...)`).

Every figure is read from what the runs recorded (app/ui/queries.py), never re-estimated. Time series are
bars (app/ui/charts.py), so a window whose data falls in one bucket still shows it.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from app.store.ticket_lifecycle import RECORDS
from app.ticket_ops import response_summary
from app.ui import charts, common, dashboard_team, labels, queries

WINDOWS = {"Last hour": (3600, "5min"), "Last 24 hours": (86400, "1h"), "Last 7 days": (7 * 86400, "6h"),
           "All time": (None, "1D")}
REFRESH_S = 30
AGENT_COLUMNS = {"agent": "Agent", "runs": "Runs", "p50_ms": "p50 (ms)", "p95_ms": "p95 (ms)",
                 "failure_rate": "Failure rate"}


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _ms(figure) -> str:
    """"850 ms" under a second; above, in s/min/h ("Review wait p50 123,129 ms" read as a phone number)."""
    if figure is None:
        return "—"
    return f"{figure:,.0f} ms" if figure < 1000 else labels.duration(figure / 1000)


def workflows(desk, since: float, span, started: int) -> None:
    flows = queries.workflows(desk)
    by_state = flows["state"].value_counts()
    st.subheader("Workflows")
    c = st.columns(4)
    c[0].metric("Running now", int(by_state.get("running", 0)))
    c[1].metric("Paused for review", int(by_state.get("paused", 0)))
    active = flows[flows["updated"] >= pd.Timestamp(since, unit="s", tz="UTC")] if span else flows
    c[2].metric("Conversations active in window", len(active))
    c[3].metric("Turns started in window", started)


def reviews(desk) -> None:
    items = desk.inbox(limit=None)  # every paused action (the index of pending reviews, each read back)
    st.subheader("Pending reviews by age")
    if not items:
        st.caption("No pending reviews.")
        return
    st.altair_chart(charts.bars(queries.age_buckets(items), "Pending reviews"), width="stretch")
    st.dataframe([{"Age": i["age"], "Action": labels.humanize(i["action"]), "Amount": i.get("amount"),
                   "Customer": labels.customer(i.get("customer_id")), "Rule": i.get("rule_id"),
                   "Queue": labels.humanize(i.get("queue")),
                   "Tier": i.get("tier"), "Overdue": bool(i.get("overdue"))}
                  for i in sorted(items, key=lambda i: -i["age_seconds"])[:20]], hide_index=True)


def outcomes(nodes, turn_rows, esc, freq: str, started: int, recorded: dict) -> None:
    st.subheader("Outcomes")
    if not started:
        st.caption("No turns recorded in this window.")
        return
    rates = queries.rates(nodes, turn_rows, esc, freq)
    total = rates[["started", "completed", "escalated", "failed"]].sum()
    c = st.columns(5)
    shares = "Share of the turns started in the window; with turns still running the three add up to 100%."
    c[0].metric("Completion rate", _pct(total["completed"] / total["started"]), help=shares + " Completed by the "
                "desk, without a review.")
    c[1].metric("Escalation rate", _pct(total["escalated"] / total["started"]), help=shares + " Sent to a review.")
    c[2].metric("Error rate", _pct(total["failed"] / total["started"]), help=shares)
    machine = recorded.get("turn_latency_ms")
    c[3].metric("Turn time p50 (machine)", _ms(machine.get("p50") if isinstance(machine, dict)
                                                else recorded.get("turn_latency_ms_p50")))
    wait = recorded.get("review_wait_ms") or {}
    c[4].metric("Review wait p50", _ms(wait.get("p50")), help="Time a turn waited for a person; not turn time.")
    without_person(recorded.get("without_person") or {})
    shares = rates[["completion_rate", "escalation_rate", "error_rate"]].rename(columns=labels.column)
    st.altair_chart(charts.bars_over_time(shares, "Share of turns started", charts.RATE), width="stretch")
    if not turn_rows.empty:
        counts = turn_rows.groupby([turn_rows["time"].dt.floor(freq), "outcome"]).size().unstack(fill_value=0)
        counts = counts.rename(columns=labels.humanize)
        st.altair_chart(charts.bars_over_time(counts, "Turns", charts.COUNT, "Outcome"), width="stretch")


def without_person(shares: dict) -> None:
    """The automation figure a support lead asks for first, questions and actions apart: a desk that answers every
    question but hands every refund to a person is not the desk that executes them."""
    c = st.columns(2)
    for col, kind, label, what in ((c[0], "question", "Questions resolved without a person",
                                    "answered from the help centre, no ticket"),
                                   (c[1], "action", "Actions resolved without a person",
                                    "carried out in the company's system, or refused with its reason, unreviewed")):
        f = shares.get(kind) or {}
        col.metric(label, "—" if f.get("share") is None else _pct(f["share"]),
                   help=f"{f.get('by_desk', 0)} of {f.get('turns', 0)} settled {kind} turns: {what}.")


def agents(nodes, freq: str, recorded: dict) -> None:
    st.subheader("Agents")
    st.dataframe(queries.agent_latency(nodes).rename(columns=AGENT_COLUMNS), hide_index=True,
                 column_config={"Failure rate": st.column_config.NumberColumn(format="percent")})
    over_time = queries.latency_over_time(nodes, freq)
    if not over_time.empty:
        st.altair_chart(charts.bars_over_time(over_time.rename(columns=labels.humanize), "p95 time per turn (ms)",
                                              charts.MS, "Agent"), width="stretch")
    with st.expander("Per step (as `python -m app stats` reports)"):
        st.dataframe([{"Step": labels.humanize(n), **{AGENT_COLUMNS.get(k, labels.column(k)): x for k, x in v.items()}}
                      for n, v in recorded.get("agents", {}).items()], hide_index=True)


def response_times(svc, tix: pd.DataFrame) -> None:
    """Time to a person's first reply and to the solve, per ticket opened in the window."""
    st.subheader("Ticket response times")
    ids = set(tix["id"]) if len(tix) else set()
    opened = [t for t in svc.tickets.response_times() if t["id"] in ids]
    # A ticket that records an action carried out or approved (after a review, whose wait is reported above) was
    # never a person's work: counted, it read "Solved" at 0 s and pulled the median resolution to "0s".
    times = [t for t in opened if t.get("resolution") not in RECORDS]
    if len(opened) > len(times):
        st.caption(f"{len(opened) - len(times)} ticket(s) only record an action the desk carried out or a reviewer "
                   "approved; they are not counted here.")
    if not times:
        st.caption("No tickets for a person opened in this window.")
        return
    summary = response_summary(times)
    c = st.columns(4)
    c[0].metric("First response, median", labels.duration(summary["first_response_s"]["p50"]))
    c[1].metric("First response, worst", labels.duration(summary["first_response_s"]["max"]))
    c[2].metric("Resolution, median", labels.duration(summary["resolution_s"]["p50"]))
    c[3].metric("Resolution, worst", labels.duration(summary["resolution_s"]["max"]))
    st.dataframe([{"Ticket": t["id"], "Queue": t["queue"] or "—", "Status": labels.status(t["status"]),
                   "First response": labels.duration(t["first_response_s"]),
                   "Resolution": labels.duration(t["resolution_s"])} for t in reversed(times)], hide_index=True)


def llm_usage(tix: pd.DataFrame, turn_rows: pd.DataFrame, freq: str, recorded: dict) -> None:
    st.subheader("LLM usage")
    c = st.columns(3)
    c[0].metric("Tickets", len(tix))
    c[1].metric("LLM calls per ticket", f"{tix['llm_calls'].mean():.2f}" if len(tix) else "—")
    c[2].metric("Tokens per ticket", f"{tix['tokens'].mean():.0f}" if len(tix) else "—")
    if len(tix) and (tix["llm_calls"].sum() or tix["tokens"].sum()):
        per = tix.groupby(tix["time"].dt.floor(freq))[["llm_calls", "tokens"]].mean()
        st.altair_chart(charts.bars_over_time(per[["llm_calls"]].rename(columns=labels.column),
                                              "LLM calls per ticket", charts.DECIMAL), width="stretch")
        st.altair_chart(charts.bars_over_time(per[["tokens"]].rename(columns=labels.column),
                                              "Tokens per ticket", charts.MS), width="stretch")
    elif len(tix):
        st.caption("No LLM calls behind the tickets in this window (offline mode answers without a model).")
    by_agent = recorded.get("llm_by_agent") or {}
    if by_agent:
        st.dataframe([{"Agent": a, **{labels.column(k): x for k, x in v.items()}} for a, v in by_agent.items()],
                     hide_index=True)
    if not turn_rows.empty:
        st.caption(f"Per turn: {turn_rows['llm_calls'].mean():.2f} LLM calls, "
                   f"{(turn_rows['prompt_tokens'] + turn_rows['completion_tokens']).mean():.0f} tokens")


@st.fragment(run_every=REFRESH_S)
def board(desk, window: str) -> None:
    svc = desk.services
    span, freq = WINDOWS[window]
    since = time.time() - span if span else 0.0
    nodes, turn_rows = queries.node_runs(svc, since), queries.turns(svc, since)
    esc, tix = queries.escalations(svc, since), queries.tickets(svc, since)
    recorded = svc.metrics.summary(since)  # what `python -m app stats` prints
    started = int((nodes["node"] == "intake").sum())
    workflows(desk, since, span, started)
    reviews(desk)
    outcomes(nodes, turn_rows, esc, freq, started, recorded)
    agents(nodes, freq, recorded)
    work = queries.workload(svc, since)  # shown and exported: read once
    dashboard_team.volume(turn_rows, tix)
    response_times(svc, tix)
    dashboard_team.workload(work)
    llm_usage(tix, turn_rows, freq, recorded)
    dashboard_team.cost(svc, since)
    dashboard_team.export(turn_rows, tix, work)


def render() -> None:
    desk = common.current_desk()
    st.title("Operations")
    common.show_flash()
    window = st.selectbox("Window", list(WINDOWS), index=1, key="ops-window")
    board(desk, window)


if __name__ == "__main__":
    render()
