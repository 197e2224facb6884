"""Operations page: workflows, review backlog, outcome rates, agent latency and LLM cost, over time.

Every figure is read from what the runs recorded (app/ui/queries.py), never re-estimated.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from app.ui import common, queries

WINDOWS = {"Last hour": (3600, "5min"), "Last 24 hours": (86400, "1h"), "Last 7 days": (7 * 86400, "6h"),
           "All time": (None, "1D")}


def _pct(x: float) -> str:
    return f"{x:.0%}"


def render() -> None:
    desk = common.current_desk()
    svc = desk.services
    st.title("Operations")
    common.show_flash()
    window = st.selectbox("Window", list(WINDOWS), index=1, key="ops-window")
    span, freq = WINDOWS[window]
    since = time.time() - span if span else 0.0

    flows = queries.workflows(desk)
    items = desk.inbox()  # every paused action, from the checkpointer
    nodes, turn_rows = queries.node_runs(svc, since), queries.turns(svc, since)
    esc, tix = queries.escalations(svc, since), queries.tickets(svc, since)
    recorded = svc.metrics.summary(since)  # what `python -m app stats` prints
    started = int((nodes["node"] == "intake").sum())
    by_state = flows["state"].value_counts()

    st.subheader("Workflows")
    c = st.columns(4)
    c[0].metric("Running now", int(by_state.get("running", 0)))
    c[1].metric("Paused for review", int(by_state.get("paused", 0)))
    active = flows[flows["updated"] >= pd.Timestamp(since, unit="s", tz="UTC")] if span else flows
    c[2].metric("Conversations active in window", len(active))
    c[3].metric("Turns started in window", started)

    st.subheader("Pending reviews by age")
    if items:
        st.bar_chart(queries.age_buckets(items), sort=False)
        st.dataframe([{k: i.get(k) for k in ("age", "thread_id", "action", "amount", "rule_id", "queue", "tier")}
                      for i in sorted(items, key=lambda i: -i["age_seconds"])[:20]], hide_index=True)
    else:
        st.caption("No pending reviews.")

    st.subheader("Outcomes")
    rates = queries.rates(nodes, turn_rows, esc, freq)
    if started:
        total = rates[["started", "completed", "escalated", "failed"]].sum()
        c = st.columns(3)
        c[0].metric("Completion rate", _pct(total["completed"] / total["started"]))
        c[1].metric("Escalation rate", _pct(total["escalated"] / total["started"]))
        c[2].metric("Error rate", _pct(total["failed"] / total["started"]))
        st.line_chart(rates[["completion_rate", "escalation_rate", "error_rate"]])
        if not turn_rows.empty:
            st.bar_chart(turn_rows.groupby([turn_rows["time"].dt.floor(freq), "outcome"]).size().unstack(fill_value=0))
    else:
        st.caption("No turns recorded in this window.")

    st.subheader("Agents")
    st.dataframe(queries.agent_latency(nodes), hide_index=True)
    over_time = queries.latency_over_time(nodes, freq)
    if not over_time.empty:
        st.caption("p95 time per turn (ms) by agent")
        st.line_chart(over_time)
    with st.expander("Per node (as `python -m app stats` reports)"):
        st.dataframe([{"node": n, **v} for n, v in recorded.get("agents", {}).items()],
                     hide_index=True)

    st.subheader("LLM usage")
    c = st.columns(3)
    c[0].metric("Tickets", len(tix))
    c[1].metric("LLM calls per ticket", f"{tix['llm_calls'].mean():.2f}" if len(tix) else "—")
    c[2].metric("Tokens per ticket", f"{tix['tokens'].mean():.0f}" if len(tix) else "—")
    if len(tix):
        per = tix.groupby(tix["time"].dt.floor(freq))[["llm_calls", "tokens"]].mean()
        st.line_chart(per)
    by_agent = recorded.get("llm_by_agent") or {}
    if by_agent:
        st.dataframe([{"agent": a, **v} for a, v in by_agent.items()], hide_index=True)
    if not turn_rows.empty:
        st.caption(f"Per turn: {turn_rows['llm_calls'].mean():.2f} LLM calls, "
                   f"{(turn_rows['prompt_tokens'] + turn_rows['completion_tokens']).mean():.0f} tokens")


if __name__ == "__main__":
    render()
