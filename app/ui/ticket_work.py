"""A person working a ticket from the workspace: reply (into the customer's chat), internal note, assign,
status. Every change goes through `desk.tickets` with the signed-in team member as the actor, so it is
audited under their name; nobody signed in, nothing to click. A ticket outside their scope (app/ticket_scope.py: a
queue they do not work, and no supervisor role) offers reply and note only, and someone who works no queue at all
(a knowledge editor) only reads; each says why, rather than showing buttons that can only fail. The desk checks
again on every change."""

from __future__ import annotations

import streamlit as st

from app.desk import SupportDesk
from app.store.ticket_lifecycle import STATUSES, TRANSITIONS, TicketError
from app.ticket_scope import TicketScopeError, member, why_not, works_tickets
from app.ui import common, labels


def activity(desk: SupportDesk, ticket_id: str) -> None:
    """The ticket's own events (replies, notes, assignments, status changes), oldest first."""
    events = desk.tickets.show(ticket_id)["events"]
    if not events:
        st.caption("No activity yet.")
        return
    st.dataframe([{"Time": labels.when(e["created_at"]), "What": labels.EVENT.get(e["kind"], e["kind"]),
                   "By": e["actor"], "Details": labels.status(e["body"]) if e["kind"] == "status" else e["body"]}
                  for e in events], hide_index=True, width="stretch")


def actions(desk: SupportDesk, ticket: dict) -> None:
    who = common.identity()
    if who is None:
        st.caption("Sign in (sidebar) to reply, add a note, assign or change the status. "
                   "Every change is recorded under your name.")
        return
    ops, tid = desk.tickets, ticket["id"]
    registry = ops.registry
    try:
        person = member(registry, who.id)  # removed since signing in, or works no queue (a knowledge editor)
    except TicketScopeError as exc:
        st.caption(f"Read only: {exc}.")
        return
    outside = why_not(person, ticket)
    if outside:
        st.caption(f"You can reply and add notes; the status and the assignment are not yours to change: {outside}.")
    nexts = [] if outside else sorted(TRANSITIONS.get(ticket["status"], ()), key=STATUSES.index)
    reply, note = st.columns(2)
    with reply.form(f"reply-{tid}", clear_on_submit=True):
        text = st.text_area("Reply to the customer (appears in their chat)", key=f"reply-text-{tid}")
        then = st.selectbox("Then set status", ["", *nexts], key=f"reply-status-{tid}",
                            format_func=lambda s: labels.status(s) if s else "Unchanged")
        if st.form_submit_button("Send reply", type="primary"):
            _apply(lambda: ops.reply(tid, who.id, text, status=then or None),
                   "Reply sent. The customer sees it in their chat.")
    with note.form(f"note-{tid}", clear_on_submit=True):
        body = st.text_area("Internal note (never shown to the customer)", key=f"note-text-{tid}")
        if st.form_submit_button("Add note"):
            _apply(lambda: ops.note(tid, who.id, body), "Note added.")
    c1, c2 = st.columns(2)
    people = ", ".join(r.id for r in registry.reviewers if works_tickets(r))
    to = c1.text_input("Assign to (a person's id, or queue:NAME)", key=f"assign-to-{tid}", placeholder=who.id,
                       help=f"People: {people}. Queues: {', '.join(registry.queues)}.")
    if c1.button("Assign", key=f"assign-{tid}", disabled=bool(outside)):
        _apply(lambda: ops.assign(tid, who.id, to=to.strip() or who.id), "Assigned.")
    status = c2.selectbox("Status", nexts or ["closed"], key=f"status-to-{tid}", disabled=not nexts,
                          format_func=labels.status)
    if c2.button("Change status", key=f"status-{tid}", disabled=not nexts):
        _apply(lambda: ops.status(tid, who.id, status), f"Status set to {labels.status(status)}.")


def _apply(change, done: str) -> None:
    try:
        change()
    except (TicketError, *common.ERRORS) as exc:
        common.flash(str(exc))
    else:
        common.flash(done, "success")
    st.rerun()
