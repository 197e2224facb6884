"""What every console page shares: the desk, messages across reruns, reviewer sign-in, the kill
switch and the controls that decide a paused action."""

from __future__ import annotations

import streamlit as st

from agents.compliance.nodes import ReviewPayloadError
from app.desk import MessageError, SupportDesk
from app.settings import Settings
from app.ui import labels
from app.ui.auth import Identity, SignInError, sign_in

ERRORS = (MessageError, ReviewPayloadError, LookupError, SignInError)


@st.cache_resource(show_spinner="Loading models and knowledge base…")
def get_desk(data_dir: str) -> SupportDesk:
    """One desk per data directory: loading the embedding model takes seconds."""
    return SupportDesk(data_dir=data_dir)


def current_desk() -> SupportDesk:
    return get_desk(str(Settings().data_dir))


def flash(message: str, kind: str = "error") -> None:
    """Show `message` after the next rerun (most actions end with st.rerun())."""
    st.session_state.setdefault("flash", []).append((kind, message))


def show_flash() -> None:
    for kind, message in st.session_state.pop("flash", []):
        getattr(st, kind)(message)


def identity() -> Identity | None:
    return st.session_state.get("identity")


def sidebar(desk: SupportDesk) -> None:
    identity_box(desk)
    kill_switch(desk)


def identity_box(desk: SupportDesk) -> None:
    st.sidebar.subheader("Team sign-in")
    who = identity()
    if who is not None:
        st.sidebar.markdown(f"Signed in as **{who.id}** — {who.name} ({', '.join(who.roles)})")
        if st.sidebar.button("Sign out", key="sign-out"):
            del st.session_state["identity"]
            st.rerun()
        return
    rid = st.sidebar.text_input("Team member id", key="reviewer")
    token = st.sidebar.text_input("Secret token", key="reviewer_token", type="password",
                                  help="Decisions need a configured reviewer (app/config/reviewers.yaml).")
    if st.sidebar.button("Sign in", key="sign-in"):
        try:
            st.session_state.identity = sign_in(desk.services.settings, rid, token)
        except SignInError as exc:
            flash(f"Sign-in failed: {exc}")
        st.rerun()


def kill_switch(desk: SupportDesk) -> None:
    """The global pause: while on, every action waits for a human, in every process."""
    controls = desk.services.controls
    on = controls.paused
    st.sidebar.subheader("Operations")
    st.sidebar.markdown("Kill switch: **ON — all actions go to review**" if on else "Kill switch: off")
    if st.sidebar.button("Resume automation" if on else "Pause automation", key="kill-switch"):
        who = identity()
        if who is None:
            flash("Sign in as a reviewer in the sidebar before pausing or resuming automation.")
        else:
            controls.set_kill_switch(not on, actor=who.id, reason="toggled from the Streamlit console")
        st.rerun()


# ---- reviews ----------------------------------------------------------------------------
def decide(desk: SupportDesk, thread_id: str, kind: str, message: str | None = None,
           args: dict | None = None) -> bool:
    """Every decision carries the signed-in reviewer's identity: no anonymous approvals."""
    who = identity()
    if who is None:
        flash("Sign in as a reviewer in the sidebar before deciding.")
        return False
    try:
        if kind == "approve":
            r = desk.approve(thread_id, reviewer=who.id)
        elif kind == "reject":
            r = desk.reject(thread_id, reviewer=who.id, message=message or None)
        else:
            r = desk.edit(thread_id, reviewer=who.id, args=args or {}, message=message or None, explain_lower=True)
    except ERRORS as exc:
        flash(str(exc))
        return False
    # "Edited and approved by bo: ticket opened (T-…)", never "Editd by bo: ticket_created".
    flash(f"{labels.DECISION[kind]} by {who.name}: {labels.outcome(r.outcome)}"
          + (f" ({r.ticket_id})" if r.ticket_id else ""), "success")
    return True
