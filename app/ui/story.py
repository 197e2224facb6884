"""The team's view of one conversation: its messages, the specialists' steps, the audit story, and the
action and policy behind a ticket — as tables and formatted JSON, never Python reprs or snake_case codes."""

from __future__ import annotations

import streamlit as st

from app.desk import SupportDesk
from app.store.metrics import AGENT_OF_NODE
from app.ui import conversation, labels, queries
from app.ui.progress import AGENTS


def messages(desk: SupportDesk, thread_id: str) -> None:
    msgs = conversation.turns(desk, thread_id)
    if not msgs:
        st.caption("No messages yet.")
    for msg in msgs:
        conversation.bubble(msg, team_view=True)


def steps(desk: SupportDesk, thread_id: str) -> None:
    """Every node the specialists ran on this conversation, turn by turn, as the metrics recorded them."""
    data = queries.rows(desk.services.metrics, "SELECT ts, turn, node, ms, error FROM node_runs "
                        "WHERE thread_id = ? ORDER BY ts", (thread_id,))
    if not data:
        st.caption("No steps recorded.")
        return
    st.dataframe([{"Turn": r["turn"], "Time": labels.when(r["ts"]),
                   "Specialist": AGENTS.get(AGENT_OF_NODE.get(r["node"], "supervisor"), "Supervisor"),
                   "Step": labels.humanize(r["node"]), "Duration (ms)": round(r["ms"] or 0, 1),
                   "Error": r["error"] or ""} for r in data], hide_index=True, width="stretch")
    route = (desk.runner.snapshot(thread_id).values or {}).get("route") or []
    if route:
        st.caption("Latest turn's route: " + " → ".join(AGENTS.get(a, labels.humanize(a)) for a in route))


def audit_story(desk: SupportDesk, thread_id: str) -> None:
    """What happened, in order: who decided what, why, on which evidence."""
    entries = desk.services.audit.entries(thread_id)
    st.caption(f"{len(entries)} audit entries")
    if not entries:
        return
    st.dataframe([{"Time": labels.when(e["ts"]), "Event": labels.humanize(e["event"]), "By": e["actor"],
                   "Why": labels.words(e["reason"]), "Model": e.get("model") or "", "Tokens": e.get("tokens") or 0}
                  for e in entries], hide_index=True, width="stretch",
                 column_config={"Why": st.column_config.TextColumn(width="large")})
    with st.expander("Evidence of each entry"):
        for e in entries:
            st.markdown(f"**{e['seq']}. {labels.humanize(e['event'])}** by {e['actor']}")
            st.json(e["evidence"], expanded=False)


def action_and_policy(ticket: dict, executions: list[dict] | None = None) -> None:
    c1, c2 = st.columns(2)
    c1.markdown("**Action**")
    with c1:
        st.json(ticket.get("action") or {}, expanded=True)
    c2.markdown("**Policy decision**")
    with c2:
        st.json(ticket.get("policy") or {}, expanded=True)
    calls(executions or [])


def calls(executions: list[dict]) -> None:
    """Each write in the company's system: the call planned (before it was made) beside what it came to."""
    if not executions:
        return
    st.markdown("**Calls to the company's systems**")
    for e in executions:
        st.caption(f"{e['operation']} · {e['mode']} · {e['status']}" + (f" · reference {e['reference']}"
                                                                       if e.get("reference") else ""))
        planned, done = st.columns(2)
        with planned:
            st.markdown("Planned call")
            st.json(e.get("call") or {}, expanded=False)
        with done:
            st.markdown("Executed" if e["status"] == "executed" else labels.humanize(e["status"]))
            st.json(e.get("result") or {"error": e.get("error")}, expanded=False)


def review_request(item: dict) -> None:
    """A paused action, as the reviewer needs it: why, what the customer asked, and the action itself."""
    st.markdown(f"**Why it waits:** {item.get('reason') or '—'}  \n**Customer said:** {item.get('request') or '—'}")
    for note in item.get("customer_notes") or []:  # written while the review waited (app/review/customer_notes.py)
        st.markdown(f"**Customer added** ({str(note.get('at', ''))[:16].replace('T', ' ')} UTC):")
        st.text(note["text"])
    st.dataframe([{"Rule": item.get("rule_id") or "—", "Queue": labels.humanize(item.get("queue")),
                   "Needs role": labels.role(item.get("reviewer_role") or "—"),
                   "Priority": labels.humanize(item.get("priority") or "normal"),
                   "Qualified reviewers": ", ".join(item.get("qualified") or []) or "—"}], hide_index=True)
    st.markdown(f"**Action:** {action_words(item.get('action'), item.get('args') or {})}")


ACTION_NAMES = {"refund": "Refund", "cancel_order": "Cancel the order", "account_change": "Change account details",
                "close_account": "Close the account", "escalate": "Pass to a person"}


def action_words(name: str | None, args: dict) -> str:
    """"Refund · USD 900.00 · order 55120", not `{"action": "refund", "args": {…}}`."""
    parts = [ACTION_NAMES.get(name or "", (name or "—").replace("_", " ").capitalize())]
    if isinstance(args.get("amount"), int | float):
        parts.append(labels.money(args["amount"], args.get("currency")))
    if args.get("order_id"):
        parts.append(f"order {args['order_id']}")
    parts += [f"{k.replace('_', ' ')}: {v}" for k, v in args.items()
              if k not in ("amount", "currency", "order_id", "intent", "missing") and v not in (None, "", [], {})]
    return " · ".join(parts)
