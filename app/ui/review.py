"""Review inbox page: every paused action across conversations, grouped where similar, decided by a
signed-in reviewer (approve / edit / reject one item, or approve / reject a whole group)."""

from __future__ import annotations

import streamlit as st

from app.desk import SupportDesk
from app.review.inbox import age_text
from app.ui import common, labels, story
from app.ui.review_context import review_context
from app.ui.review_controls import review_controls

REFRESH_S = 15


def _money(amount, currency=None) -> str:
    return "" if amount is None else f" {labels.money(amount, currency)}"


def _item(desk: SupportDesk, item: dict) -> None:
    flag = " · ⚠ overdue" if item.get("overdue") else ""
    title = (f"{item['age']} · {story.action_words(item['action'], {})}"
             f"{_money(item.get('amount'), item.get('currency'))} · {labels.humanize(item.get('queue'))} queue · "
             f"{labels.humanize(item.get('tier'))} customer{flag}")
    with st.expander(title, expanded=False):
        story.review_request(item)
        review_context(desk, item)
        review_controls(desk, item, "inbox")


def _decide_group(desk: SupportDesk, group: dict, decision: str) -> None:
    who = common.identity()
    if who is None:
        common.flash("Sign in as a reviewer in the sidebar before deciding.")
        return
    try:
        out = desk.decide_group(group["group_id"], decision, reviewer=who.id)
    except common.ERRORS as exc:
        common.flash(str(exc))
        return
    common.flash(f"Group {group['group_id']}: {len(out['decided'])} {decision}d by {who.id}"
                 + (f", {len(out['failed'])} failed" if out["failed"] else ""), "success")
    for f in out["failed"]:
        common.flash(f"{f['thread_id']}: {f['error']}")


def _group(desk: SupportDesk, group: dict) -> None:
    amounts = "" if group.get("amount_min") is None else (
        f" · {group['amount_min']:,.2f}–{group['amount_max']:,.2f}")
    with st.container(border=True):
        st.markdown(f"**{group['count']} × {story.action_words(group['action'], {})}**{amounts} · "
                    f"{labels.humanize(group['queue'])} queue · oldest {age_text(group['oldest_age_seconds'])}")
        if group["count"] > 1:
            c1, c2 = st.columns(2)
            if c1.button(f"Approve all {group['count']}", key=f"group-approve-{group['group_id']}"):
                _decide_group(desk, group, "approve")
                st.rerun()
            if c2.button(f"Reject all {group['count']}", key=f"group-reject-{group['group_id']}"):
                _decide_group(desk, group, "reject")
                st.rerun()
        for item in group["items"]:
            _item(desk, item)


def render() -> None:
    desk = common.current_desk()
    st.title("Review inbox")
    common.show_flash()
    if common.identity() is None:
        st.info("Sign in as a reviewer in the sidebar to decide. Every decision is recorded with your identity.")
    inbox(desk)


@st.fragment(run_every=REFRESH_S)
def inbox(desk: SupportDesk) -> None:
    """Re-read every few seconds: new paused actions appear, decided ones leave, without a click."""
    who = common.identity()
    mine = who is not None and st.checkbox("Only items I may decide", key="inbox-mine")
    reviewer = who.id if mine else None
    groups = desk.review_groups(reviewer=reviewer)
    pending = sum(g["count"] for g in groups)
    st.caption(f"{pending} pending in {len(groups)} group(s)")
    for g in groups:
        _group(desk, g)
    if not pending:
        st.success("Nothing is waiting for a decision.")


if __name__ == "__main__":
    render()
