"""Tickets page: search tickets, open one, and read the audit story of its conversation."""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from app.store.tickets import STATUSES, TRANSITIONS, TicketError
from app.ticket_ops import TicketDesk
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
    work(ticket)
    audit_story(svc, ticket["thread_id"])


KINDS = {"reply": "Reply to the customer", "note": "Internal note", "assign": "Assigned", "status": "Status"}


def work(ticket: dict) -> None:
    """The ticket's events and a person's changes: reply (into the customer's chat), note, assign, status."""
    desk = common.current_desk()
    ops = TicketDesk(desk.runner)
    events = ops.store.events(ticket["id"])
    st.subheader(f"Activity ({len(events)})")
    for e in events:
        st.markdown(f"`{_when(e['created_at'])}` **{KINDS[e['kind']]}** by {e['actor']} — {e['body']}")
    who = common.identity()
    if who is None:
        st.caption("Sign in (sidebar) to reply, note, assign or change the status.")
        return
    tid = ticket["id"]
    nexts = sorted(TRANSITIONS.get(ticket["status"], ()), key=STATUSES.index)
    with st.form(f"reply-{tid}", clear_on_submit=True):
        text = st.text_area("Reply to the customer (shown in their chat)", key=f"reply-text-{tid}")
        then = st.selectbox("Then set status", ["", *nexts], key=f"reply-status-{tid}",
                            format_func=lambda s: s or "unchanged")
        if st.form_submit_button("Send reply"):
            _apply(lambda: ops.reply(tid, who.id, text, status=then or None), "Reply sent.")
    with st.form(f"note-{tid}", clear_on_submit=True):
        note = st.text_area("Internal note (never shown to the customer)", key=f"note-text-{tid}")
        if st.form_submit_button("Add note"):
            _apply(lambda: ops.note(tid, who.id, note), "Note added.")
    c1, c2 = st.columns(2)
    to = c1.text_input("Assign to (person id, or queue:NAME)", key=f"assign-to-{tid}")
    if c1.button("Assign", key=f"assign-{tid}"):
        _apply(lambda: ops.assign(tid, who.id, to=to.strip() or None), "Assigned.")
    status = c2.selectbox("Status", nexts or ["closed"], key=f"status-to-{tid}", disabled=not nexts)
    if c2.button("Change status", key=f"status-{tid}", disabled=not nexts):
        _apply(lambda: ops.status(tid, who.id, status), f"Status set to {status}.")


def _apply(change, done: str) -> None:
    try:
        change()
    except (TicketError, *common.ERRORS) as exc:
        common.flash(str(exc))
    else:
        common.flash(done, "success")
    st.rerun()


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
