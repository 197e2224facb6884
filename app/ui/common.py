"""What every console page shares: the desk, messages across reruns, reviewer sign-in, the kill
switch and the controls that decide a paused action."""

from __future__ import annotations

import streamlit as st

from agents.compliance.nodes import ReviewPayloadError
from agents.compliance.reviewers import registry_for
from app.desk import MessageError, SupportDesk
from app.settings import Settings
from app.ui import labels, session
from app.ui.auth import Identity, SignInError, identity_of, sign_in

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
    if identity() is not None:
        kill_switch(desk)


def restore(settings: Settings) -> None:
    """A reload keeps the team member signed in (app/ui/session.py); roles and limits are the registry's now."""
    if "identity" not in st.session_state and (rid := session.restored(settings, "team")):
        if (who := identity_of(settings, rid)) is not None:
            st.session_state.identity = who


def identity_box(desk: SupportDesk) -> None:
    """The sign-in form, or who is signed in (streamlit_app.py has already `restore`d a reload's sign-in)."""
    settings = desk.services.settings
    st.sidebar.subheader("Team sign-in")
    who = identity()
    if who is not None:
        st.sidebar.markdown(f"Signed in as **{who.name}** ({who.id}) · {', '.join(labels.role(r) for r in who.roles)}")
        if st.sidebar.button("Sign out", key="sign-out"):
            desk.services.presence.left(who.id)
            del st.session_state["identity"]
            session.forget("team")
            st.rerun()
        return
    with st.sidebar.form("team-sign-in-form", border=False, enter_to_submit=True):  # Enter signs in
        rid = st.text_input("Team member id", key="reviewer")
        token = st.text_input("Secret token", key="reviewer_token", type="password",
                              help="Team members are configured in app/config/reviewers.yaml.")
        if st.form_submit_button("Sign in", key="sign-in"):
            try:
                st.session_state.identity = sign_in(settings, rid, token)
                session.remember(settings, "team", st.session_state.identity.id)
            except SignInError as exc:
                flash(f"Sign-in failed: {exc}")
            st.rerun()
    demo_accounts(settings)


def member_name(desk: SupportDesk, member_id: str) -> str:
    """The team member's name, or their id when the registry no longer has them."""
    who = identity_of(desk.services.settings, member_id)
    return who.name if who else member_id


def demo_accounts(settings: Settings) -> None:
    """Demo mode only: the demo team members whose token really is "demo-<id>" (checked against the registry)."""
    if not settings.demo_mode:
        return
    demo = []
    for r in registry_for(settings).reviewers:
        try:
            sign_in(settings, r.id, f"demo-{r.id}")
        except SignInError:
            continue
        demo.append(f"`{r.id}` / `demo-{r.id}` ({r.name})")
    if demo:
        st.sidebar.caption("**Demo mode** — demo team sign-ins (id / token): " + ", ".join(demo))


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
