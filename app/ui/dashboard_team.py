"""The operations page's figures about the work itself: volume by intent and by queue, workload per team member,
what the models cost, and every figure's rows as CSV for a spreadsheet.

A support lead plans staffing from these: which requests come in, which queue they land in, who carries them,
and what the automation costs in money (Settings.model_prices; a model not listed costs 0 and is said so).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app.ui import labels, queries


def volume(turn_rows: pd.DataFrame, tix: pd.DataFrame) -> None:
    st.subheader("Volume")
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Turns by intent**")
        if turn_rows.empty:
            st.caption("No turns in this window.")
        else:
            by_intent = turn_rows["intent"].fillna("unknown").map(labels.humanize).value_counts()
            st.dataframe(by_intent.rename_axis("Intent").reset_index(name="Turns"), hide_index=True)
    with c2:
        st.markdown("**Tickets by queue**")
        if tix.empty:
            st.caption("No tickets opened in this window.")
        else:
            frame = tix.assign(queue=tix["queue"].fillna("general").map(labels.humanize),
                               open=~tix["status"].isin(["solved", "closed"]))
            by_queue = frame.groupby("queue").agg(Tickets=("id", "count"), Open=("open", "sum")).reset_index()
            st.dataframe(by_queue.rename(columns={"queue": "Queue"}), hide_index=True)


def workload(table: pd.DataFrame) -> None:
    """`table`: queries.workload's rows for the window."""
    st.subheader("Workload per team member")
    if table.empty:
        st.caption("No replies, notes, assignments or review decisions by a person in this window.")
        return
    st.dataframe(table, hide_index=True)


def cost(svc, since: float) -> None:
    st.subheader("Model cost")
    usage = queries.llm_cost(svc, since)
    if not usage:
        st.caption("No LLM calls in this window (offline mode answers without a model): cost USD 0.00.")
        return
    total = sum(u["usd"] for u in usage)
    unpriced = [u["model"] or "unknown" for u in usage if u["model"] not in svc.metrics.prices]
    st.metric("LLM cost in window", f"USD {total:,.2f}",
              help="From the price table in the setting model_prices (USD per million input and output tokens).")
    st.dataframe([{"Model": u["model"] or "unknown", "Calls": u["calls"], "Input tokens": u["input_tokens"],
                   "Output tokens": u["output_tokens"], "Cost": f"USD {u['usd']:,.4f}"} for u in usage],
                 hide_index=True)
    if unpriced:
        st.caption(f"No price configured for {', '.join(unpriced)}: counted as USD 0 (set model_prices).")


def export(turn_rows: pd.DataFrame, tix: pd.DataFrame, work: pd.DataFrame) -> None:
    """The rows behind the figures, as CSV: turns, tickets, workload."""
    st.subheader("Export")
    c = st.columns(3)
    tables = {"turns": turn_rows, "tickets": tix, "workload": work}
    for col, (name, frame) in zip(c, tables.items(), strict=True):
        col.download_button(f"Download {name} (CSV)", frame.to_csv(index=False).encode("utf-8"),
                            file_name=f"supportflow-{name}.csv", mime="text/csv", key=f"ops-csv-{name}",
                            disabled=frame.empty)
