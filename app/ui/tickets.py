"""Tickets page: search tickets, open one, and read the audit story of its conversation."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from app.ui import common, queries

COLUMNS = ("id", "created", "status", "priority", "queue", "intent", "customer_id", "reviewer", "llm_calls",
           "tokens", "summary")


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def audit_story(svc, thread_id: str) -> None:
    """What happened in the conversation, in order: who decided what, why, on which evidence."""
    entries = svc.audit.entries(thread_id)
    st.subheader(f"Audit story ({len(entries)} entries)")
    for e in entries:
        model = f" · model {e['model']}, {e['tokens']} tokens" if e.get("model") else ""
        st.markdown(f"`{_when(e['ts'])}` **{e['event']}** by {e['actor']} — {e['reason']}{model}")
    if entries:
        with st.expander("Evidence (raw)"):
            st.json([{k: e[k] for k in ("seq", "event", "actor", "evidence")} for e in entries], expanded=False)


def detail(svc, ticket: dict) -> None:
    st.subheader(f"Ticket {ticket['id']}")
    c = st.columns(4)
    c[0].metric("Status", ticket["status"])
    c[1].metric("Priority", ticket["priority"])
    c[2].metric("Queue", ticket.get("queue") or "—")
    c[3].metric("Reviewer", ticket.get("reviewer") or "—")
    st.markdown(f"**Summary:** {ticket['summary']}")
    st.markdown(f"**Action:** `{ticket['action']}` · **Policy:** `{ticket['policy']}`")
    notes = svc.tickets.notifications(ticket["id"])
    if notes:
        st.markdown("**Notifications:** " + "; ".join(f"{n['channel']}: {n['body']}" for n in notes))
    if st.button("Open the conversation in Chat", key=f"open-{ticket['id']}"):
        st.session_state.thread_id = ticket["thread_id"]
        st.switch_page("app/ui/chat.py")
    audit_story(svc, ticket["thread_id"])


def render() -> None:
    svc = common.current_desk().services
    st.title("Tickets")
    common.show_flash()
    c1, c2 = st.columns([3, 1])
    text = c1.text_input("Search", key="ticket-search", placeholder="id, thread, customer, intent, queue, reviewer…")
    statuses = sorted(r["status"] for r in queries.rows(svc.tickets, "SELECT DISTINCT status FROM tickets"))
    status = c2.selectbox("Status", ["", *statuses], key="ticket-status", format_func=lambda s: s or "any")
    found = queries.search_tickets(svc, text, status)
    st.caption(f"{len(found)} ticket(s)")
    st.dataframe([{**{k: t.get(k) for k in COLUMNS if k != "created"}, "created": _when(t["created_at"])}
                  for t in found], hide_index=True, column_order=COLUMNS)
    if not found:
        return
    chosen = st.selectbox("Open ticket", [t["id"] for t in found], key="ticket-open")
    detail(svc, next(t for t in found if t["id"] == chosen))


if __name__ == "__main__":
    render()
