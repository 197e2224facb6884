"""Streamlit chat over the SupportDesk API: conversations, citations, tickets and human review.

Run with `streamlit run streamlit_app.py` (data directory from SUPPORT_DATA_DIR).
"""

from __future__ import annotations

import json
import uuid

import streamlit as st

from agents.compliance import ReviewPayloadError
from app.api import MessageError, NoPendingReviewError, SupportDesk, TurnResult, UnknownThreadError
from app.persistence import thread_ids
from app.settings import Settings

ERRORS = (MessageError, ReviewPayloadError, NoPendingReviewError, UnknownThreadError)


@st.cache_resource(show_spinner="Loading models and knowledge base…")
def get_desk(data_dir: str) -> SupportDesk:
    """One desk per data directory: loading the embedding model takes seconds."""
    return SupportDesk(data_dir=data_dir)


def current_result(desk: SupportDesk, thread_id: str) -> TurnResult | None:
    try:
        return desk.get(thread_id)
    except UnknownThreadError:
        return None


def sidebar(desk: SupportDesk) -> dict:
    st.sidebar.title("SupportFlow")
    if st.sidebar.button("New conversation", use_container_width=True):
        st.session_state.thread_id = uuid.uuid4().hex
    known = thread_ids(desk.checkpointer)
    tid = st.session_state.thread_id
    options = [tid] + [t for t in known if t != tid]
    chosen = st.sidebar.selectbox("Conversation", options, index=0, format_func=lambda t: t[:12])
    if chosen != tid:
        st.session_state.thread_id = chosen
        st.rerun()
    st.sidebar.subheader("Customer")
    customer = {
        "id": st.sidebar.text_input("Customer id", value="guest"),
        "verified": st.sidebar.checkbox("Identity verified", value=False),
        "tier": st.sidebar.selectbox("Tier", ["standard", "plus"]),
    }
    st.sidebar.subheader("Reviewer")
    reviewer = st.sidebar.text_input("Reviewer name", key="reviewer", help="Required to approve or reject.")
    kill_switch(desk, reviewer.strip())
    return {"customer": customer, "reviewer": reviewer.strip()}


def kill_switch(desk: SupportDesk, operator: str) -> None:
    """The global pause: while on, every action waits for a human, in every process."""
    controls = desk.services.controls
    on = controls.paused
    st.sidebar.subheader("Operations")
    st.sidebar.write("Kill switch: **ON — all actions go to review**" if on else "Kill switch: off")
    if st.sidebar.button("Resume automation" if on else "Pause automation", key="kill-switch"):
        if not operator:
            st.session_state.error = "Enter your name in the sidebar before pausing or resuming automation."
        else:
            controls.set_kill_switch(not on, actor=operator, reason="toggled from the Streamlit console")
        st.rerun()


def decide(desk: SupportDesk, thread_id: str, kind: str, reviewer: str, message: str | None = None) -> None:
    """Every decision carries a reviewer identity: no anonymous approvals."""
    if not reviewer:
        st.session_state.error = "Enter your reviewer name in the sidebar before deciding."
        return
    try:
        if kind == "approve":
            desk.approve(thread_id, reviewer=reviewer)
        else:
            desk.reject(thread_id, reviewer=reviewer, message=message or None)
    except ERRORS as exc:
        st.session_state.error = str(exc)


def show_details(result: TurnResult) -> None:
    st.caption(f"{result.outcome} · intent {result.intent} · route {' → '.join(result.route) or '—'}")
    for c in result.citations:
        with st.expander(f"Source: {c['title']} ({c['doc_id']})"):
            st.write(c["snippet"])
    if result.ticket:
        t = result.ticket
        st.info(f"Ticket **{t['id']}** · status {t['status']} · priority {t['priority']} · queue {t['queue']}")


def review_panel(desk: SupportDesk, result: TurnResult, reviewer: str) -> None:
    req = result.pending_review["action_requests"][0]
    st.warning(f"**Under review** — {req['description']}")
    st.code(json.dumps({"action": req["name"], "args": req["args"]}, indent=2), language="json")
    note = st.text_input("Message to the customer if rejected", key=f"reject-msg-{result.thread_id}")
    col1, col2 = st.columns(2)
    if col1.button("Approve", key=f"approve-{result.thread_id}", type="primary"):
        decide(desk, result.thread_id, "approve", reviewer)
        st.rerun()
    if col2.button("Reject", key=f"reject-{result.thread_id}"):
        decide(desk, result.thread_id, "reject", reviewer, note)
        st.rerun()


def inbox(desk: SupportDesk, reviewer: str) -> None:
    items = desk.pending_reviews()
    with st.expander(f"Pending reviews across all conversations ({len(items)})", expanded=False):
        for item in items:
            req = item["review"]["action_requests"][0]
            st.markdown(f"`{item['thread_id'][:12]}` **{req['name']}** {json.dumps(req['args'])} — {req['description']}")
            c1, c2 = st.columns(2)
            if c1.button("Approve", key=f"inbox-approve-{item['thread_id']}"):
                decide(desk, item["thread_id"], "approve", reviewer)
                st.rerun()
            if c2.button("Reject", key=f"inbox-reject-{item['thread_id']}"):
                decide(desk, item["thread_id"], "reject", reviewer)
                st.rerun()


def main() -> None:
    st.set_page_config(page_title="SupportFlow", page_icon="💬")
    desk = get_desk(str(Settings().data_dir))
    st.session_state.setdefault("thread_id", uuid.uuid4().hex)
    opts = sidebar(desk)
    tid = st.session_state.thread_id
    st.title("Customer support")
    if err := st.session_state.pop("error", None):
        st.error(err)

    for msg in desk.history(tid):
        with st.chat_message("user" if msg["role"] == "human" else "assistant"):
            st.markdown(msg["content"])
    result = current_result(desk, tid)
    if result is not None:
        with st.chat_message("assistant"):
            if result.pending_review:
                st.markdown(result.answer or "")
                review_panel(desk, result, opts["reviewer"])
            else:
                show_details(result)
    inbox(desk, opts["reviewer"])

    if prompt := st.chat_input("How can we help?"):
        try:
            with st.spinner("Specialists are working on it…"):
                desk.send(prompt, thread_id=tid, customer=opts["customer"])
        except ERRORS as exc:
            st.session_state.error = str(exc)
        st.rerun()


main()
