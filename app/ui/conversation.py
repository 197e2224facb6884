"""What the customer chat and the agent workspace both read from a thread: its messages, its state in
words, and the list of conversations to reopen (time, status, preview — never a bare id).

Every read goes through the desk's access check for the caller (`desk.history`, `desk.access.open`): the
customer's page passes its untrusted console principal, so a thread it does not own reads as no thread at all,
messages, status and ticket reference alike. The team's pages pass nothing: the server's own trusted caller.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from app.desk import SupportDesk, UnknownThreadError
from app.identity import LOCAL, Principal
from app.ui import labels

PERSON_AVATAR = ":material/support_agent:"  # an icon, not an emoji sequence some fonts split in two


def is_person(msg: dict) -> bool:
    """A public reply a person wrote on the ticket (app/ticket_ops.py writes it as `agent:<id>`)."""
    return msg["author"].startswith("agent:")


def turns(desk: SupportDesk, thread_id: str, caller: Principal = LOCAL) -> list[dict]:
    """The thread's messages with who wrote them ("customer", "assistant", "agent:<id>"); UnknownThreadError
    when `caller` may not open it."""
    return [{"role": m["role"], "content": m["content"], "aside": bool(m.get("aside")),
             "author": "customer" if m["role"] == "human" else (m["name"] or "assistant")}
            for m in desk.history(thread_id, caller=caller)]


def may_open(desk: SupportDesk, thread_id: str, caller: Principal) -> bool:
    """Whether `caller` owns the thread (a new id nobody has written to yet: not yet)."""
    try:
        desk.access.open(thread_id, caller)
    except UnknownThreadError:
        return False
    return True


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


def state_of(desk: SupportDesk, thread_id: str, caller: Principal) -> dict:
    """Last activity, a customer-safe status and the last message, read from the checkpointer;
    UnknownThreadError when `caller` may not open the thread."""
    snap = desk.runner.snapshot(desk.access.open(thread_id, caller))
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
    return {"thread_id": thread_id, "updated": updated, "status": status,
            "preview": labels.preview(str(messages[-1].content) if messages else "", 60)}


def reopen_options(desk: SupportDesk, current: str, candidates: list[str], caller: Principal,
                   limit: int = 30) -> dict[str, str]:
    """thread id → "time · status · preview": the open conversation, then, newest first, those of `candidates`
    (this session's and the signed-in customer's threads, never every thread) that `caller` may open and that
    have begun."""
    out, begun = {current: "This conversation (new)"}, []
    for tid in dict.fromkeys([current, *candidates[:limit]]):
        try:
            s = state_of(desk, tid, caller)
        except UnknownThreadError:
            continue
        if s["updated"] is not None:
            begun.append(s)
    for s in sorted(begun, key=lambda s: (s["thread_id"] != current, -s["updated"].timestamp())):
        out[s["thread_id"]] = f"{s['updated'].strftime('%d %b %H:%M')} · {s['status']} · {s['preview'] or '…'}"
    return out
