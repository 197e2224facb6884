"""Customer chat: what a customer sees — the conversation, its sources, and where their request stands.

Nothing of the team's machinery shows here: no review controls, no action JSON, no rule, queue, role or
thread ids; a ticket is named by its reference only. A request waiting for a person reads as "with our
team"; a person's reply on the ticket appears in the same conversation. The team works in the agent
workspace (app/ui/workspace.py).

The page is a door like the HTTP API: every desk call goes as the signed-in customer (or an anonymous one) on the
untrusted "console" channel (app/ui/customer_auth.py), so it lists, opens and writes only the caller's own
threads. An anonymous visitor reopens only the conversations of this browser session; a thread id the caller does
not own, however it got into the session, shows nothing and is replaced by a new conversation.
"""

from __future__ import annotations

import streamlit as st

from agents.supervisor.conversation import handed_to, without_sources
from app.desk import SupportDesk, ThreadBusyError, TurnResult, UnknownThreadError
from app.identity import Principal
from app.ui import common, conversation, customer_auth, labels
from app.ui.progress import progress_line

REFRESH_S = 4  # how often an open chat looks for a reply from the team
WITH_TEAM = "With our team — a person is checking this request. Their answer will appear here."


def current_thread(desk: SupportDesk, caller: Principal) -> str:
    """The session's open thread, if it is one this session started or the caller owns; else a new one."""
    tid = st.session_state.get("thread_id")
    if tid is None or (tid not in customer_auth.session_threads() and not conversation.may_open(desk, tid, caller)):
        tid = customer_auth.new_thread()
    return tid


def conversations_sidebar(desk: SupportDesk, caller: Principal, tid: str) -> str:
    """New conversation, and the caller's own conversations to reopen; the thread to show."""
    st.sidebar.subheader("Your conversations")
    if st.sidebar.button("New conversation", width="stretch"):
        tid = customer_auth.new_thread()
    mine = customer_auth.session_threads() + [t["thread_id"] for t in desk.threads_of(caller)]
    options = conversation.reopen_options(desk, tid, mine, caller)
    st.session_state.reopen = tid  # the box shows the open conversation, whichever way it was opened
    st.sidebar.selectbox("Reopen a conversation", list(options), key="reopen", format_func=options.get,
                         on_change=_reopen)
    return tid


def _reopen() -> None:
    """The customer picked a conversation: open it on this run (current_thread checks it is theirs)."""
    st.session_state.thread_id = st.session_state.reopen


def _details(result: TurnResult) -> None:
    """Under the assistant's latest answer: a clarifying question reads as one; sources to open."""
    if result.outcome == "needs_info":
        st.caption(":material/help: A quick question so we can help — please answer below.")
    for c in result.citations:
        with st.expander(f"Source: {c['title']}"):
            st.write(c["snippet"])


def show_conversation(desk: SupportDesk, tid: str, caller: Principal) -> None:
    """One bubble per message; the latest answer carries its sources; a pending review reads neutrally. A thread
    the caller does not own (or a new one) shows nothing: no messages, no status, no ticket reference."""
    try:
        result = desk.get(tid, caller=caller)
        msgs = conversation.turns(desk, tid, caller)
    except UnknownThreadError:
        return
    paused = bool(result and result.pending_review)
    # The latest turn's answer, and where the holding reply goes: by the thread's own messages, not the
    # exchanges a waiting review kept beside it (`aside`: a question answered on the side, small talk).
    own = [i for i, m in enumerate(msgs) if not m.get("aside")]
    last_human = max((i for i in own if msgs[i]["role"] == "human"), default=-1)
    answer = next((i for i in own if i > last_human and msgs[i]["role"] == "ai"
                   and not conversation.is_person(msgs[i])), None)
    waiting = paused and (not own or msgs[own[-1]]["role"] == "human")  # nothing said since the request
    for i, msg in enumerate(msgs):
        if i == answer and result is not None and result.citations:  # its sources are shown once, below it
            msg = {**msg, "content": without_sources(msg["content"])}
        conversation.bubble(msg)
        if i == answer and result is not None and not paused:
            _details(result)
        if waiting and i == last_human:  # the holding reply stays under the request it answers
            with st.chat_message("assistant"):
                st.markdown(result.answer or "")
    if person := handed_to(desk.services, tid):
        st.info(f"You're talking with {person['name']} from our team. They'll reply here.", icon="🧑")
    if paused:
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
def live_conversation(desk: SupportDesk, tid: str, caller: Principal) -> None:
    """Re-read every few seconds, so a reviewer's decision or a person's reply shows without a click."""
    show_conversation(desk, tid, caller)


def _gone() -> None:
    """The thread stopped being the caller's (e.g. another tab signed in as someone else): start afresh."""
    customer_auth.new_thread()
    common.flash("That conversation is not available. We started a new one: please send your message again.",
                 "info")


def run_turn(desk: SupportDesk, prompt: str, tid: str, caller: Principal) -> None:
    """Stream one turn: a status box names the working specialist; LLM answers appear as drafted."""
    lines: list[str] = []
    with st.chat_message("user"):
        st.markdown(prompt)
    with st.chat_message("assistant"):
        draft = st.empty()
        with st.status("Reading your message…", expanded=True) as status:
            try:
                for ev in desk.stream(prompt, thread_id=tid, caller=caller):
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
            except UnknownThreadError:
                status.update(label="Not sent", state="error")
                _gone()
            except common.ERRORS as exc:
                status.update(label="Not sent", state="error")
                common.flash(str(exc))
    st.session_state.setdefault("progress", {})[tid] = lines


def paused(desk: SupportDesk, tid: str, caller: Principal) -> bool:
    try:
        return bool(desk.get(tid, caller=caller).pending_review)
    except UnknownThreadError:
        return False


def send_quietly(desk: SupportDesk, prompt: str, tid: str, caller: Principal) -> None:
    """A message with no answer of the desk's to stream: while a review waits (a detail for the reviewer, a
    question answered on the side, a withdrawal), or while a person holds the conversation (it goes to them).
    The desk keeps every exchange, in the history or beside it (app/store/asides.py)."""
    try:
        with st.spinner("Sending…"):
            desk.send(prompt, thread_id=tid, caller=caller)
    except ThreadBusyError:
        common.flash("We're still working on your previous message. Send this one again in a moment.", "info")
        return
    except UnknownThreadError:
        _gone()
        return
    except common.ERRORS as exc:
        common.flash(str(exc))
        return


def render() -> None:
    desk = common.current_desk()
    caller = customer_auth.sidebar(desk.services.settings)
    tid = conversations_sidebar(desk, caller, current_thread(desk, caller))
    st.title("Customer support")
    common.show_flash()
    live_conversation(desk, tid, caller)
    if prompt := st.chat_input("How can we help?"):
        if paused(desk, tid, caller) or handed_to(desk.services, tid):
            send_quietly(desk, prompt, tid, caller)
        else:
            run_turn(desk, prompt, tid, caller)
        st.rerun()


if __name__ == "__main__":
    render()
