"""Chat page: talk to the desk as a customer, watch the specialists work, decide paused actions."""

from __future__ import annotations

import uuid

import streamlit as st

from app.desk import SupportDesk, TurnResult, UnknownThreadError
from app.ticket_ops import transcript
from app.ui import common
from app.ui.progress import AGENTS, stream_turn


def conversation_sidebar(desk: SupportDesk) -> dict:
    st.sidebar.subheader("Conversation")
    if st.sidebar.button("New conversation", width="stretch"):
        st.session_state.thread_id = uuid.uuid4().hex
    tid = st.session_state.thread_id
    options = [tid] + [t for t in desk.runner.thread_ids() if t != tid]
    chosen = st.sidebar.selectbox("Reopen a conversation", options, index=0, format_func=lambda t: t[:12])
    if chosen != tid:
        st.session_state.thread_id = chosen
        st.rerun()
    st.sidebar.subheader("Customer")
    return {
        "id": st.sidebar.text_input("Customer id", value="guest"),
        "verified": st.sidebar.checkbox("Identity verified", value=False),
        "tier": st.sidebar.selectbox("Tier", ["standard", "plus"]),
    }


def show_details(result: TurnResult) -> None:
    st.caption(f"{result.outcome} · intent {result.intent} · route {' → '.join(result.route) or '—'}")
    for c in result.citations:
        with st.expander(f"Source: {c['title']} ({c['doc_id']})"):
            st.write(c["snippet"])
    if result.ticket:
        t = result.ticket
        st.info(f"Ticket **{t['id']}** · status {t['status']} · priority {t['priority']} · queue {t['queue']}")


def show_review(desk: SupportDesk, result: TurnResult) -> None:
    review = result.pending_review
    req, meta = review["action_requests"][0], review.get("metadata") or {}
    st.markdown(result.answer or "")
    st.warning(f"**Under review** — {req['description']} The conversation is paused until a reviewer decides.")
    st.caption(f"rule {meta.get('rule_id')} · queue {meta.get('queue')} · needs role {meta.get('reviewer_role')}")
    item = {"thread_id": result.thread_id, "action": req["name"], "args": req.get("args") or {}}
    common.review_controls(desk, item, "chat")


def show_progress(tid: str) -> None:
    lines = st.session_state.get("progress", {}).get(tid)
    if lines:
        with st.expander("Agent progress (last turn)"):
            st.markdown("\n".join(f"- {line}" for line in lines))


def run_turn(desk: SupportDesk, prompt: str, tid: str, customer: dict) -> None:
    """Stream one turn: a status box names the working specialist; LLM answers appear as drafted."""
    lines: list[str] = []
    with st.chat_message("user"):
        st.markdown(prompt)
    with st.chat_message("assistant"):
        draft = st.empty()
        with st.status("Triage is working…", expanded=True) as status:
            try:
                for ev in stream_turn(desk, prompt, tid, customer):
                    if ev.kind == "token":
                        draft.markdown(f"*Draft (checked against the sources before it is sent):* {ev.text} ▌")
                        continue
                    name = AGENTS.get(ev.agent, ev.agent)
                    if ev.kind == "route":
                        line = f"Supervisor → {AGENTS.get(ev.data['to'], ev.data['to'])}"
                        status.update(label=f"{AGENTS.get(ev.data['to'], ev.data['to'])} is working…")
                    elif ev.kind == "finished":
                        line = f"✓ {name} finished"
                    elif ev.kind == "paused":
                        line = "⏸ Paused: waiting for a human review"
                    else:
                        line = f"{name} · {ev.node}: {ev.text}"
                    lines.append(line)
                    st.write(line)
                status.update(label="Done", state="complete", expanded=False)
            except common.ERRORS as exc:
                status.update(label="Not processed", state="error")
                common.flash(str(exc))
    st.session_state.setdefault("progress", {})[tid] = lines


def render() -> None:
    desk = common.current_desk()
    st.session_state.setdefault("thread_id", uuid.uuid4().hex)
    customer = conversation_sidebar(desk)
    tid = st.session_state.thread_id
    st.title("Customer support")
    common.show_flash()
    for msg in transcript(desk.runner, tid):
        person = msg["author"].startswith("agent:")  # a person's reply to the ticket (app/ticket_ops.py)
        with st.chat_message("user" if msg["role"] == "human" else "assistant", avatar="🧑‍💼" if person else None):
            if person:
                st.caption("Reply from our support team")
            st.markdown(msg["content"])
    try:
        result = desk.get(tid)
    except UnknownThreadError:
        result = None
    if result is not None:
        with st.chat_message("assistant"):
            if result.pending_review:
                show_review(desk, result)
            else:
                show_details(result)
            show_progress(tid)
    if prompt := st.chat_input("How can we help?"):
        run_turn(desk, prompt, tid, customer)
        st.rerun()


if __name__ == "__main__":
    render()
