"""Agent workspace: the team's list of tickets and conversations waiting for a review, and one of them
opened — the thread, the specialists' steps, the audit story — with reply, note, assign, status and, for
signed-in reviewers, the review decision. Re-read every few seconds (`st.fragment(run_every=...)`).
"""

from __future__ import annotations

import streamlit as st

from app.desk import SupportDesk
from app.store.ticket_lifecycle import STATUSES
from app.ui import common, labels, story, ticket_work
from app.ui.review_context import review_context
from app.ui.review_controls import review_controls
from app.ui.workspace_rows import ASSISTANT, REVIEW, SORTS, VIEWS, Row, assistant_only, in_view, keep, ordered, rows

REFRESH_S = 10
PIN = "ws-pinned"  # the key ("ticket:<id>", "review:<thread>") of the conversation the agent has open

def thread_tabs(desk: SupportDesk, thread_id: str) -> None:
    """What the team reads about any conversation: the messages, what each specialist did, and the audit story."""
    tabs = st.tabs(["Conversation", "Specialists' steps", "Audit story"])
    with tabs[0]:
        story.messages(desk, thread_id)
    with tabs[1]:
        story.steps(desk, thread_id)
    with tabs[2]:
        story.audit_story(desk, thread_id)


def view_and_sort() -> tuple[str, str]:
    c1, c2 = st.columns([3, 1])
    view = c1.segmented_control("View", list(VIEWS), key="ws-view", default="All") or "All"
    sort = c2.selectbox("Sort by", ["As listed", *SORTS], key="ws-sort")
    return view, sort


def filters(all_rows: list[Row]) -> tuple[list[str], list[str], str]:
    c1, c2, c3 = st.columns([1, 1, 2])
    queues = sorted({r.queue for r in all_rows if r.queue})
    q = c1.multiselect("Queue", queues, key="ws-queue", placeholder="All queues", format_func=labels.humanize)
    s = c2.multiselect("Status", [REVIEW, *STATUSES, ASSISTANT], key="ws-status", format_func=labels.status,
                       placeholder="Any status")
    text = c3.text_input("Search", key="ws-search", placeholder="ticket, customer, message, assignee…")
    return q, s, text


def ticket_detail(desk: SupportDesk, row: Row) -> None:
    t = desk.tickets.show(row.ticket_id)
    st.subheader(f"Ticket {t['id']} · {row.customer}")
    c = st.columns(3) + st.columns(3)  # two rows: "Waiting on customer" was cut to "Waitin…" in six
    c[0].metric("Status", labels.status(t["status"]))
    c[1].metric("Priority", labels.humanize(t["priority"]))
    c[2].metric("Queue", labels.humanize(t.get("queue")))
    c[3].metric("Assignee", t.get("assignee") or "—")
    c[4].metric("First response", labels.duration(t["first_response_s"]))
    c[5].metric("Resolution", labels.duration(t["resolution_s"]))
    st.markdown(f"**Summary:** {t['summary'] or '—'}  \n**SLA (first response):** {row.sla} · "
                f"**Opened:** {labels.when(t['created_at'])}")
    ticket_work.actions(desk, t)
    tabs = st.tabs(["Conversation", "Activity", "Specialists' steps", "Audit story", "Action and policy"])
    with tabs[0]:
        story.messages(desk, t["thread_id"])
    with tabs[1]:
        ticket_work.activity(desk, t["id"])
    with tabs[2]:
        story.steps(desk, t["thread_id"])
    with tabs[3]:
        story.audit_story(desk, t["thread_id"])
    with tabs[4]:
        story.action_and_policy(t, desk.services.executions.of_ticket(t["id"]))


def review_detail(desk: SupportDesk, row: Row) -> None:
    st.subheader(f"Awaiting review · {row.customer}")
    story.review_request(row.item)
    review_context(desk, row.item)
    if common.identity() is None:
        st.info("Sign in as a reviewer (sidebar) to approve, edit or reject. Every decision is recorded "
                "with your identity.")
    else:
        review_controls(desk, row.item, "ws")
    thread_tabs(desk, row.thread_id)


def conversation_detail(desk: SupportDesk, row: Row) -> None:
    st.subheader(f"Conversation · {row.customer}")
    st.caption(f"Handled by the assistant (last outcome: {labels.humanize(row.item.get('outcome'))}); no ticket, "
               "so there is nothing to reply to from here.")
    thread_tabs(desk, row.thread_id)


DETAIL = {REVIEW: review_detail, ASSISTANT: conversation_detail}


def opened(shown: list[Row], all_rows: list[Row]) -> Row:
    """The open conversation, pinned by its key: a refresh that reorders or filters the list never changes which
    ticket the composer writes to (it once switched to the customer's other ticket mid-reply). The selectbox has no
    key of its own: its default is the pinned row, so a new list cannot hand it another."""
    by_key = {r.key: r for r in shown}
    pinned = st.session_state.get(PIN)
    if pinned not in by_key and (kept := next((r for r in all_rows if r.key == pinned), None)):
        by_key = {pinned: kept, **by_key}  # filtered out meanwhile: it stays open until the agent moves on
    keys = list(by_key)
    chosen = st.selectbox("Open", keys, index=keys.index(pinned) if pinned in by_key else 0,
                          format_func=lambda k: by_key[k].label())
    if chosen != pinned and by_key[chosen].ticket_id:  # opened (again): changes are checked from what it shows now
        st.session_state.pop(ticket_work.seen_key(by_key[chosen].ticket_id), None)
    st.session_state[PIN] = chosen
    return by_key[chosen]


def also_viewing(desk: SupportDesk, row: Row) -> None:
    """Say who else has this conversation open, so two people don't answer one customer twice."""
    who = common.identity()
    if who is None:
        return
    presence = desk.services.presence
    presence.seen(row.key, who.id)
    others = presence.others(row.key, who.id)
    if others:
        names = ", ".join(common.member_name(desk, m) for m in others)
        st.warning(f"Also viewing: {names}. Check the conversation before you reply.", icon=":material/visibility:")


@st.fragment(run_every=REFRESH_S)
def board(desk: SupportDesk) -> None:
    all_rows = rows(desk)
    if st.session_state.get("ws-all"):
        all_rows += assistant_only(desk)
    view, sort = view_and_sort()
    who = common.identity()
    shown = ordered(keep(in_view(all_rows, view, who.id if who else None), *filters(all_rows)), sort)
    overdue = sum(r.overdue for r in all_rows)
    st.caption(f"{len(shown)} of {len(all_rows)} shown · {sum(r.status == REVIEW for r in all_rows)} awaiting "
               f"review · {overdue} past SLA")
    st.dataframe([r.table() for r in shown], hide_index=True, width="stretch",
                 column_config={"Last message": st.column_config.TextColumn(width="large"),
                                "SLA": st.column_config.TextColumn(width="medium"),  # "Overdue by 2h 05m" was cut
                                "Status": st.column_config.TextColumn(width="medium")})
    if not shown:
        return
    row = opened(shown, all_rows)
    also_viewing(desk, row)
    with st.container(border=True):
        DETAIL.get(row.status, ticket_detail)(desk, row)


def render() -> None:
    desk = common.current_desk()
    st.title("Agent workspace")
    common.show_flash()
    who = common.identity()
    st.caption(f"Signed in as {who.id} — {who.name}" if who else "Not signed in: read only. Sign in in the sidebar.")
    st.toggle("Also list conversations the assistant handled alone", key="ws-all")
    board(desk)


if __name__ == "__main__":
    render()

