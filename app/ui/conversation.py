"""What the customer chat and the agent workspace both read from a thread: its messages, its state in
words, and the list of conversations to reopen (customer, time, status, preview — never a bare id)."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from app.desk import SupportDesk
from app.ticket_ops import transcript
from app.ui import labels

PERSON_AVATAR = ":material/support_agent:"  # an icon, not an emoji sequence some fonts split in two


def is_person(msg: dict) -> bool:
    """A public reply a person wrote on the ticket (app/ticket_ops.py writes it as `agent:<id>`)."""
    return msg["author"].startswith("agent:")


def turns(desk: SupportDesk, thread_id: str) -> list[dict]:
    return transcript(desk.runner, thread_id)


def bubble(msg: dict, team_view: bool = False) -> None:
    """One message. A person's reply is marked as such; the team also sees which person."""
    customer = msg["role"] == "human"
    with st.chat_message("user" if customer else "assistant", avatar=PERSON_AVATAR if is_person(msg) else None):
        if is_person(msg):
            who = msg["author"].removeprefix("agent:")
            st.caption(f"Reply from {who} (support team)" if team_view else "Reply from our support team")
        elif team_view:
            st.caption("Customer" if customer else "Assistant")
        st.markdown(msg["content"])


def state_of(desk: SupportDesk, thread_id: str) -> dict:
    """Customer, last activity, a customer-safe status and the last message, read from the checkpointer."""
    snap = desk.runner.snapshot(thread_id)
    values = snap.values or {}
    messages = values.get("messages") or []
    tickets = desk.tickets.list(thread_id=thread_id, limit=5)
    if snap.interrupts:
        status = "with our team"
    elif tickets:
        status = f"ticket {labels.CUSTOMER_STATUS.get(tickets[0]['status'], tickets[0]['status'])}"
    elif values.get("outcome") == "needs_info":
        status = "waiting for your reply"
    else:
        status = "answered" if values.get("answer") else "new"
    updated = datetime.fromisoformat(snap.created_at) if snap.created_at else None
    return {"thread_id": thread_id, "customer": (values.get("customer") or {}).get("id") or "guest",
            "updated": updated, "status": status,
            "preview": labels.preview(str(messages[-1].content) if messages else "", 60)}


def reopen_options(desk: SupportDesk, current: str, limit: int = 30) -> dict[str, str]:
    """thread id → "customer · time · status · preview", newest first, the open conversation first."""
    ids = [current] + [t for t in desk.runner.thread_ids()[:limit] if t != current]
    out = {}
    for tid in ids:
        s = state_of(desk, tid)
        if tid == current and s["updated"] is None:
            out[tid] = "This conversation (new)"
            continue
        when = s["updated"].strftime("%d %b %H:%M") if s["updated"] else "—"
        out[tid] = f"{s['customer']} · {when} · {s['status']} · {s['preview'] or '…'}"
    return out
