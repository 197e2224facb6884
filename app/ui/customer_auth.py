"""Who the customer on the chat page is: signed in against the customer directory, or anonymous.

The page never asks the customer whether they are verified or which tier they are on: those decide policy (an
account closure needs a verified identity), so they come from the directory (app/customers.py) after a password
check, or, in demo mode only, from picking one of the demo customers. Everything the page asks of the desk goes as
`Principal("console", customer=...)`, never trusted, so the desk's own checks decide which threads it may open.

Signing out forgets the session's conversations: the next person at the same browser must not be offered them.
A sign-in survives a reload (app/ui/session.py): the customer's facts are read from the directory again then.
"""

from __future__ import annotations

import uuid

import streamlit as st

from app.customers import CustomerDirectoryError, CustomerSignInError, demo_customers, directory_for, sign_in
from app.identity import ANONYMOUS, Customer, Principal
from app.ui import common, session

CHANNEL = "console"
_SESSION_KEYS = ("customer", "conversations", "progress")


def customer() -> Customer:
    return st.session_state.get("customer") or ANONYMOUS


def principal() -> Principal:
    return Principal(CHANNEL, customer=customer())


def new_thread() -> str:
    """A fresh thread id, remembered as one of this session's conversations (all an anonymous session may reopen)."""
    tid = uuid.uuid4().hex
    st.session_state.setdefault("conversations", []).insert(0, tid)
    st.session_state.thread_id = tid
    return tid


def session_threads() -> list[str]:
    return st.session_state.setdefault("conversations", [])


def sign_out() -> None:
    for key in _SESSION_KEYS:
        st.session_state.pop(key, None)
    session.forget("customer")
    new_thread()


def _signed_in(settings, who: Customer) -> None:
    st.session_state.customer = who
    session.remember(settings, "customer", who.id)


def restore(settings) -> None:
    """A reload keeps the customer signed in: the cookie names them, the directory says who they are now."""
    if "customer" in st.session_state:
        return
    cid = session.restored(settings, "customer")
    try:
        entry = directory_for(settings).find(cid) if cid else None
    except CustomerDirectoryError:
        return
    if entry is not None:
        st.session_state.customer = entry.customer()


def sidebar(settings) -> Principal:
    """The sign-in box (or who is signed in, and Sign out); the caller the page acts as."""
    restore(settings)
    st.sidebar.subheader("You")
    who = customer()
    if not who.anonymous:
        st.sidebar.markdown(f"Signed in as **{who.name or who.id}** ({who.id})")
        if st.sidebar.button("Sign out", key="customer-sign-out"):
            sign_out()
            st.rerun()
        return principal()
    st.sidebar.caption("Not signed in: you can chat, and reopen the conversations of this visit only.")
    with st.sidebar.form("customer-sign-in-form", border=False, enter_to_submit=True):  # Enter signs in
        cid = st.text_input("Customer id", key="customer_id")
        password = st.text_input("Password", key="customer_password", type="password")
        if st.form_submit_button("Sign in", key="customer-sign-in"):
            try:
                _signed_in(settings, sign_in(settings, cid, password))
            except (CustomerSignInError, CustomerDirectoryError) as exc:
                common.flash(f"Sign-in failed: {exc}")
            st.rerun()
    _demo_picker(settings)
    return principal()


def _demo_picker(settings) -> None:
    """Demo mode only (`make run`): act as a demo customer without a password."""
    try:
        demos = {c.id: c for c in demo_customers(settings)}
    except CustomerDirectoryError as exc:
        st.sidebar.error(str(exc))
        return
    if not demos:
        return
    st.sidebar.caption("**Demo mode** — for demos only: pick a demo customer, no password needed.")
    chosen = st.sidebar.selectbox("Demo customer", list(demos), key="demo_customer",
                                  format_func=lambda i: f"{demos[i].name} · {demos[i].tier}"
                                  + (" · verified" if demos[i].verified else " · not verified"))
    if st.sidebar.button("Continue as demo customer", key="demo-sign-in"):
        _signed_in(settings, demos[chosen])
        st.rerun()
