"""Customer chat: what a customer sees — the conversation, its sources, and where their request stands.

Nothing of the team's machinery shows here: no review controls, no action JSON, no rule, queue, role or
thread ids; a ticket is named by its reference only. A request waiting for a person reads as "with our
team"; a person's reply on the ticket appears in the same conversation. The team works in the agent
workspace (app/ui/workspace.py).
"""

from __future__ import annotations

import uuid

import streamlit as st

from app.desk import SupportDesk, ThreadBusyError, TurnResult, UnknownThreadError
from app.ui import common, conversation, labels
from app.ui.progress import progress_line

REFRESH_S = 4  # how often an open chat looks for a reply from the team
WITH_TEAM = "With our team — a person is checking this request. Their answer will appear here."


def customer_sidebar(desk: SupportDesk) -> dict:
    st.sidebar.subheader("Your conversations")
    if st.sidebar.button("New conversation", width="stretch"):
        st.session_state.thread_id = uuid.uuid4().hex
    tid = st.session_state.thread_id
    options = conversation.reopen_options(desk, tid)
    chosen = st.sidebar.selectbox("Reopen a conversation", list(options), index=0, format_func=options.get)
    if chosen != tid:
        st.session_state.thread_id = chosen
        st.rerun()
    st.sidebar.subheader("You (demo sign-in)")
    return {
        "id": st.sidebar.text_input("Customer id", value="guest"),
        "verified": st.sidebar.checkbox("Identity verified", value=False),
        "tier": st.sidebar.selectbox("Tier", ["standard", "plus"]),
    }


def _details(result: TurnResult) -> None:
    """Under the assistant's latest answer: a clarifying question reads as one; sources to open."""
    if result.outcome == "needs_info":
        st.caption(":material/help: A quick question so we can help — please answer below.")
    for c in result.citations:
        with st.expander(f"Source: {c['title']} ({c['doc_id']})"):
            st.write(c["snippet"])


def _asides(tid: str) -> list[dict]:
    """Exchanges while a review waited that the thread's history does not keep (a question answered on the
    side, small talk: app/review/customer_notes.py), each placed after the message count it followed."""
    return st.session_state.setdefault("asides", {}).setdefault(tid, [])


def _aside(item: dict) -> None:
    with st.chat_message("user"):
        st.markdown(item["prompt"])
    with st.chat_message("assistant"):
        st.markdown(item["answer"] or "")


def show_conversation(desk: SupportDesk, tid: str) -> None:
    """One bubble per message; the latest answer carries its sources; a pending review reads neutrally."""
    msgs = conversation.turns(desk, tid)
    try:
        result = desk.get(tid)
    except UnknownThreadError:
        result = None
    paused = bool(result and result.pending_review)
    asides = _asides(tid)
    last_human = max((i for i, m in enumerate(msgs) if m["role"] == "human"), default=-1)
    answer = next((i for i, m in enumerate(msgs) if i > last_human and m["role"] == "ai"
                   and not conversation.is_person(m)), None)
    for item in (a for a in asides if a["after"] == 0):
        _aside(item)
    for i, msg in enumerate(msgs):
        conversation.bubble(msg)
        if i == answer and result is not None and not paused:
            _details(result)
        for item in (a for a in asides if a["after"] == i + 1):
            _aside(item)
    if paused:
        if not msgs or msgs[-1]["role"] == "human":  # nothing said since the request: the holding reply
            with st.chat_message("assistant"):
                st.markdown(result.answer or "")
        st.info(WITH_TEAM, icon="⏳")
    tickets = desk.tickets.list(thread_id=tid, limit=3)
    if tickets:
        refs = "; ".join(f"**{t['id']}** · {labels.CUSTOMER_STATUS.get(t['status'], t['status'])}" for t in tickets)
        st.caption(f"Ticket reference{'s' if len(tickets) > 1 else ''} {refs}")
    st.session_state.setdefault("progress", {})
    if lines := st.session_state["progress"].get(tid):
        with st.expander("How we handled your last message"):
            st.markdown("\n".join(f"- {line}" for line in lines))


@st.fragment(run_every=REFRESH_S)
def live_conversation(desk: SupportDesk, tid: str) -> None:
    """Re-read every few seconds, so a reviewer's decision or a person's reply shows without a click."""
    show_conversation(desk, tid)


def run_turn(desk: SupportDesk, prompt: str, tid: str, customer: dict) -> None:
    """Stream one turn: a status box names the working specialist; LLM answers appear as drafted."""
    lines: list[str] = []
    with st.chat_message("user"):
        st.markdown(prompt)
    with st.chat_message("assistant"):
        draft = st.empty()
        with st.status("Reading your message…", expanded=True) as status:
            try:
                for ev in desk.stream(prompt, thread_id=tid, customer=customer):
                    if ev.kind == "token":
                        draft.markdown(f"*Draft (checked against our help centre before it is sent):* {ev.text} ▌")
                        continue
                    if line := progress_line(ev):
                        lines.append(line)
                        status.update(label=f"{line}…")
                        st.write(line)
                status.update(label="Done", state="complete", expanded=False)
            except ThreadBusyError:
                status.update(label="Still working on your previous message", state="error")
                common.flash("We're still working on your previous message. Send this one again in a moment.",
                             "info")
            except common.ERRORS as exc:
                status.update(label="Not sent", state="error")
                common.flash(str(exc))
    st.session_state.setdefault("progress", {})[tid] = lines


def paused(desk: SupportDesk, tid: str) -> bool:
    try:
        return bool(desk.get(tid).pending_review)
    except UnknownThreadError:
        return False


def send_while_paused(desk: SupportDesk, prompt: str, tid: str, customer: dict) -> None:
    """The desk accepts a message while a review waits (a detail for the reviewer, a question answered on the
    side, a withdrawal); there is no graph run to stream. What the thread's history does not keep is kept
    here, so the customer still sees their exchange."""
    before = len(conversation.turns(desk, tid))
    try:
        with st.spinner("Sending…"):
            result = desk.send(prompt, thread_id=tid, customer=customer)
    except ThreadBusyError:
        common.flash("We're still working on your previous message. Send this one again in a moment.", "info")
        return
    except common.ERRORS as exc:
        common.flash(str(exc))
        return
    if len(conversation.turns(desk, tid)) == before:
        _asides(tid).append({"after": before, "prompt": prompt, "answer": result.answer})


def render() -> None:
    desk = common.current_desk()
    st.session_state.setdefault("thread_id", uuid.uuid4().hex)
    customer = customer_sidebar(desk)
    tid = st.session_state.thread_id
    st.title("Customer support")
    common.show_flash()
    live_conversation(desk, tid)
    if prompt := st.chat_input("How can we help?"):
        if paused(desk, tid):
            send_while_paused(desk, prompt, tid, customer)
        else:
            run_turn(desk, prompt, tid, customer)
        st.rerun()


if __name__ == "__main__":
    render()
