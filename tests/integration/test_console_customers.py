"""The console's customer boundary (issue #25), through the real chat page under AppTest and a real desk.

Other customers' conversations are made the way the console makes them: `desk.send` as an untrusted console
principal. An anonymous visitor lists and opens only the conversations of their own visit; a signed-in customer
only their own; `verified` and `tier` come from the customer directory (app/config/customers.yaml), never from
the page; demo mode, and only demo mode, offers the demo customers without a password.
"""

from __future__ import annotations

import pytest

from app.customers import sign_in
from app.identity import Customer, Principal
from tests.helpers import REFUND, STREAMLIT_APP, customer_sign_in, everything, make_settings

PASSWORD_Q = "How do I reset my password?"
CLOSE = "Please close my account"


@pytest.fixture
def console(data_dir, monkeypatch):
    """A fresh console session (one browser tab) on this test's data directory; `demo=True` for demo mode."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SUPPORT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("SUPPORT_OFFLINE", "true")

    def open_console(demo: bool = False):
        monkeypatch.setenv("SUPPORT_DEMO_MODE", "true" if demo else "false")
        st.cache_resource.clear()  # the desk (and its settings) is built per session of tests
        at = AppTest.from_file(str(STREAMLIT_APP), default_timeout=180)
        at.run()
        assert not at.exception
        return at

    return open_console


def directory_customer(data_dir, cid: str) -> Customer:
    return sign_in(make_settings(data_dir), cid, f"demo-{cid}")


def as_console(customer: Customer) -> Principal:
    return Principal("console", customer=customer)


def reopen(at):
    return next(s for s in at.sidebar.selectbox if s.label == "Reopen a conversation")


def bubbles(at) -> list[str]:
    return [m.markdown[-1].value for m in at.chat_message if m.markdown]


def shown_nothing_of(at, text: str) -> None:
    assert not at.chat_message and not at.info, bubbles(at)
    assert not any("Ticket reference" in c.value for c in at.caption)
    assert text not in everything(at)


def test_an_anonymous_visitor_lists_only_the_conversations_of_this_visit(console, desk, data_dir):
    leo = directory_customer(data_dir, "cus-1002")
    assert desk.send(REFUND, caller=as_console(leo)).pending_review  # another customer's $900 refund
    desk.send("Where is my order #55120?", customer={"id": "c9"})  # a conversation on another door
    at = console()
    at.chat_input[0].set_value(PASSWORD_Q).run()
    next(b for b in at.sidebar.button if b.label == "New conversation").click().run()
    options = reopen(at).options
    assert options[0] == "This conversation (new)" and len(options) == 2, options
    assert "password" in options[1].lower()
    seen = everything(at)
    assert "refund" not in seen.lower() and "$900" not in seen and "55120" not in seen


def test_another_customers_thread_id_shows_nothing_and_cannot_be_withdrawn(console, desk, data_dir):
    leo = directory_customer(data_dir, "cus-1002")
    tid = desk.send(REFUND, caller=as_console(leo)).thread_id
    at = console()
    at.session_state["thread_id"] = tid  # however the id got into the session
    at.run()
    shown_nothing_of(at, "$900")
    assert at.session_state["thread_id"] != tid  # a new conversation instead
    at.chat_input[0].set_value("never mind, cancel that request").run()
    assert not at.exception
    assert desk.get(tid).pending_review  # still waiting for the team: nothing withdrawn
    (item,) = desk.inbox()
    assert not item.get("customer_notes")
    assert [m["content"] for m in desk.history(tid) if m["role"] == "human"] == [REFUND]
    # Another signed-in customer cannot open it either.
    customer_sign_in(at, "cus-1001")
    at.session_state["thread_id"] = tid
    at.run()
    shown_nothing_of(at, "$900")


def test_a_signed_in_customer_reopens_only_their_own_and_sign_out_forgets_them(console, desk, data_dir):
    maya = directory_customer(data_dir, "cus-1001")
    mine = desk.send(PASSWORD_Q, caller=as_console(maya)).thread_id  # e.g. from yesterday's visit
    desk.send(REFUND, caller=as_console(directory_customer(data_dir, "cus-1002")))
    at = customer_sign_in(console(), "cus-1001")
    assert not at.exception and not at.error
    assert any("Signed in as **Maya (demo)**" in m.value for m in at.sidebar.markdown)
    box = reopen(at)
    assert len(box.options) == 2 and "password" in box.options[1].lower(), box.options
    assert "refund" not in everything(at).lower()
    box.select(mine).run()
    assert PASSWORD_Q in bubbles(at)
    at.chat_input[0].set_value("Thanks, and how long does the link last?").run()
    assert not at.exception
    assert desk.history(mine, caller=as_console(maya))[-2]["content"] == "Thanks, and how long does the link last?"
    next(b for b in at.sidebar.button if b.key == "customer-sign-out").click().run()
    assert "customer" not in at.session_state and at.session_state["thread_id"] != mine
    assert reopen(at).options == ["This conversation (new)"]
    assert not at.chat_message and "reset my password" not in everything(at).lower()


def test_a_wrong_password_is_refused_with_a_clear_message(console):
    at = customer_sign_in(console(), "cus-1001", "not-the-password")
    assert [e.value for e in at.error] == ["Sign-in failed: Unknown customer id or wrong password."]
    assert "customer" not in at.session_state
    assert any(b.key == "customer-sign-in" for b in at.sidebar.button)


def test_verified_and_tier_come_from_the_directory_not_the_page(console, desk, data_dir):
    at = console()
    assert not at.checkbox and not at.sidebar.checkbox  # no "Identity verified" to tick
    labels = [s.label for s in at.sidebar.selectbox]
    assert labels == ["Reopen a conversation"], labels  # no tier, no demo customers outside demo mode
    assert "Identity verified" not in everything(at) and "Demo customer" not in everything(at)
    at.chat_input[0].set_value(CLOSE).run()
    anonymous = desk.get(at.session_state["thread_id"])
    assert anonymous.policy["rule_id"] == "account-change-needs-verified-identity"
    assert anonymous.policy["effect"] == "deny" and "verifying your identity" in bubbles(at)[-1]
    customer_sign_in(at, "cus-1003")  # in the directory, not verified
    next(b for b in at.sidebar.button if b.label == "New conversation").click().run()
    at.chat_input[0].set_value(CLOSE).run()
    unverified = at.session_state["thread_id"]
    assert desk.get(unverified).policy["effect"] == "deny"
    assert desk.services.owners.owner(unverified).customer_id == "cus-1003"
    next(b for b in at.sidebar.button if b.key == "customer-sign-out").click().run()
    customer_sign_in(at, "cus-1001")  # verified in the directory
    at.chat_input[0].set_value(CLOSE).run()
    assert desk.get(at.session_state["thread_id"]).policy["rule_id"] == "account-change-verified"


def test_demo_mode_offers_the_demo_customers_without_a_password(console):
    at = console(demo=True)
    assert any("Demo mode" in c.value and "demos only" in c.value for c in at.sidebar.caption)
    box = next(s for s in at.sidebar.selectbox if s.label == "Demo customer")
    assert box.options == ["Maya (demo) · plus · verified", "Leo (demo) · standard · verified",
                           "Sam (demo, not verified) · standard · not verified"]
    box.select("cus-1003").run()
    next(b for b in at.sidebar.button if b.key == "demo-sign-in").click().run()
    assert not at.exception
    who = at.session_state["customer"]
    assert (who.id, who.verified, who.tier) == ("cus-1003", False, "standard")
    assert not at.checkbox and not at.sidebar.checkbox
    assert any("Signed in as **Sam (demo, not verified)**" in m.value for m in at.sidebar.markdown)


@pytest.mark.parametrize("demo", [True, False])
def test_the_team_sign_in_lists_demo_accounts_in_demo_mode_only(console, demo):
    """The demo tokens sat deep in the README. Now the sign-in screen lists them, in demo mode only, and only
    those whose token really is "demo-<id>" (checked against the registry's hashes)."""
    at = console(demo=demo)
    at.switch_page("app/ui/workspace.py").run()
    listed = [c.value for c in at.sidebar.caption if "demo team sign-ins" in c.value]
    if not demo:
        assert not listed
        return
    (line,) = listed
    assert "`ana` / `demo-ana`" in line and "`bo` / `demo-bo`" in line
    at.sidebar.text_input(key="reviewer").set_value("bo")
    at.sidebar.text_input(key="reviewer_token").set_value("demo-bo")
    next(b for b in at.sidebar.button if b.key == "sign-in").click().run()
    assert at.session_state["identity"].id == "bo"
    assert not [c for c in at.sidebar.caption if "demo team sign-ins" in c.value]
    assert len(at.get("page_link")) == 4  # signed in, the team's pages are linked (and only then)


def test_the_customer_page_shows_no_team_navigation(console):
    at = console()
    assert not at.get("page_link") and "Agent workspace" not in everything(at)
