"""Deciding one paused action in the console: typed fields for what an edit may change (an amount with its currency,
an order, a detail), the customer's message, and only the buttons this reviewer may use, with the reason when not.

The desk checks role and approval limit again on every decision (agents/compliance/approval.py); showing them here
only spares a reviewer a click that can only fail. An edit that lowers the amount needs a message to the customer,
who reads it with the decision (SupportDesk.edit(explain_lower=True)).
"""

from __future__ import annotations

import streamlit as st

from agents.compliance.reviewers import ReviewerError, registry_for
from app.desk import SupportDesk
from app.ui import common

HIDDEN = {"intent", "missing", "currency"}  # bookkeeping, or shown beside the amount
LABELS = {"amount": "Amount", "order_id": "Order", "field": "Detail to change", "value": "New value"}


def why_not(desk: SupportDesk, item: dict, rejecting: bool = False) -> str | None:
    """Why the signed-in reviewer may not approve (or, `rejecting`, reject) this item (None: they may). A
    rejection moves no money: it needs the role, not the approval limit."""
    who = common.identity()
    if who is None:
        return "sign in as a reviewer (sidebar) to decide"
    try:
        person = registry_for(desk.services.settings).get(who.id)
    except ReviewerError as exc:
        return str(exc)
    amount = item.get("limit_amount") if item.get("limit_amount") is not None else item.get("amount")
    return person.may_decide(item.get("reviewer_role"), None if rejecting else amount)  # the limit's currency


def edited_args(item: dict, prefix: str) -> dict:
    """The arguments the reviewer changed, read from one typed field each."""
    tid, args, changes = item["thread_id"], item.get("args") or {}, {}
    for key, value in args.items():
        if key in HIDDEN or isinstance(value, dict | list):
            continue
        label = LABELS.get(key, key.replace("_", " ").capitalize())
        if isinstance(value, int | float) and not isinstance(value, bool):
            label += f" ({args.get('currency') or 'USD'})" if key == "amount" else ""
            new = st.number_input(label, value=float(value), min_value=0.0, step=10.0, format="%.2f",
                                  key=f"{prefix}-{key}-{tid}")
            if round(new, 2) != round(float(value), 2):
                changes[key] = new
        elif isinstance(value, str) or value is None:
            new = st.text_input(label, value=value or "", key=f"{prefix}-{key}-{tid}")
            if new.strip() != (value or ""):
                changes[key] = new.strip()
    return changes


def review_controls(desk: SupportDesk, item: dict, prefix: str) -> None:
    """Approve, change and approve, or reject one paused action (the caller shows the action itself)."""
    tid = item["thread_id"]
    refused, no_reject = why_not(desk, item), why_not(desk, item, rejecting=True)
    if no_reject:
        st.caption(f"You can't decide this one: {no_reject}.")
    elif refused:
        st.caption(f"You can reject this one, but not approve it: {refused}.")
    changes = edited_args(item, prefix)
    message = st.text_input("Message to the customer (why it was rejected, or why you changed it)",
                            key=f"{prefix}-msg-{tid}")
    c1, c2, c3 = st.columns(3)
    if c1.button("Approve", key=f"{prefix}-approve-{tid}", type="primary", disabled=bool(refused or changes)):
        common.decide(desk, tid, "approve")
        st.rerun()
    if c2.button("Approve with changes", key=f"{prefix}-edit-{tid}", disabled=bool(refused or not changes)):
        common.decide(desk, tid, "edit", message=message, args=changes)
        st.rerun()
    if c3.button("Reject", key=f"{prefix}-reject-{tid}", disabled=bool(no_reject)):
        common.decide(desk, tid, "reject", message=message)
        st.rerun()
