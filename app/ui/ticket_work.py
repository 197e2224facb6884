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
    seen = st.session_state.setdefault(seen_key(tid), ticket["status"])  # every change checks it still stands
    holder(ops, ticket, who.id, seen)
    reply, note = st.columns(2)
    for kind in ("reply", "note"):  # cleared only once its change landed: a refused one keeps the typed text
        if st.session_state.pop(f"{kind}-sent-{tid}", False):
            st.session_state[f"{kind}-text-{tid}"] = ""
    with reply.form(f"reply-{tid}"):
        text = st.text_area("Reply to the customer (appears in their chat)", key=f"reply-text-{tid}")
        then = st.selectbox("Then set status", ["", *nexts], key=f"reply-status-{tid}",
                            format_func=lambda s: labels.status(s) if s else "Unchanged")
        if st.form_submit_button("Send reply", type="primary"):
            _apply(lambda: ops.reply(tid, who.id, text, status=then or None, expect_status=seen),
                   "Reply sent. The customer sees it in their chat.", tid, "reply")
    with note.form(f"note-{tid}"):
        body = st.text_area("Internal note (never shown to the customer)", key=f"note-text-{tid}")
        if st.form_submit_button("Add note"):
            _apply(lambda: ops.note(tid, who.id, body, expect_status=seen), "Note added.", tid, "note")
    c1, c2 = st.columns(2)
    people = ", ".join(r.id for r in registry.reviewers if works_tickets(r))
    to = c1.text_input("Assign to (a person's id, or queue:NAME)", key=f"assign-to-{tid}", placeholder=who.id,
                       help=f"People: {people}. Queues: {', '.join(registry.queues)}.")
    if c1.button("Assign", key=f"assign-{tid}", disabled=bool(outside)):
        _apply(lambda: ops.assign(tid, who.id, to=to.strip() or who.id, expect_status=seen), "Assigned.", tid)
    status = c2.selectbox("Status", nexts or ["closed"], key=f"status-to-{tid}", disabled=not nexts,
                          format_func=labels.status)
    if c2.button("Change status", key=f"status-{tid}", disabled=not nexts):
        _apply(lambda: ops.status(tid, who.id, status, expect_status=seen), f"Status set to {labels.status(status)}.",
               tid)


def seen_key(ticket_id: str) -> str:
    return f"seen-{ticket_id}"


def holder(ops, ticket: dict, me: str, seen: str) -> None:
    """Who the customer is talking with: a person (their messages come here, the assistant is silent) or the
    assistant; the holder, or whoever may move the ticket, hands it back."""
    held_by = ticket.get("held_by")
    if not held_by:
        st.caption("The assistant answers this customer. Replying (or taking the ticket) hands the conversation to "
                   "you: their next messages come here and the assistant stays silent.")
        return
    c1, c2 = st.columns([3, 1])
    c1.info(f"The customer is talking with {'you' if held_by == me else held_by}: their messages come here and the "
            "assistant stays silent until the conversation is handed back or the ticket is solved.")
    if c2.button("Hand back to the assistant", key=f"handback-{ticket['id']}"):
        _apply(lambda: ops.hand_back(ticket["id"], me, expect_status=seen), "Handed back: the assistant answers "
               "the customer again.", ticket["id"])


def _apply(change, done: str, ticket_id: str, typed: str | None = None) -> None:
    """Run a change; either way the ticket is read afresh next time. The `typed` box ("reply", "note") is
    emptied only when the change landed."""
    try:
        change()
    except (TicketError, *common.ERRORS) as exc:
        common.flash(str(exc))
    else:
        common.flash(done, "success")
        if typed:
            st.session_state[f"{typed}-sent-{ticket_id}"] = True
    st.session_state.pop(seen_key(ticket_id), None)
    st.rerun()
