"""The Streamlit chat, driven through streamlit.testing's AppTest against a real data directory."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, make_settings

APP = str(ROOT / "streamlit_app.py")


@pytest.fixture
def app(data_dir, monkeypatch):
    import streamlit as st

    monkeypatch.setenv("SUPPORT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("SUPPORT_OFFLINE", "true")
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception
    return at


def _tickets(data_dir):
    from app.tickets import TicketStore

    return TicketStore(make_settings(data_dir).app_db).list()


def _button(at, label):
    return next(b for b in at.button if b.label == label and not b.key.startswith("inbox"))


def test_question_answered_with_citation(app):
    app.chat_input[0].set_value("How do I reset my password?").run()
    assert not app.exception
    texts = " ".join(m.markdown[0].value for m in app.chat_message if m.markdown)
    assert "password" in texts.lower()
    assert any("password-reset.md" in e.label for e in app.expander)


def test_big_refund_review_then_approve(app, data_dir):
    app.chat_input[0].set_value("I want a refund of $900 for order #48213").run()
    assert any("Under review" in w.value for w in app.warning)
    app.sidebar.text_input(key="reviewer").set_value("ana").run()
    _button(app, "Approve").click().run()
    assert not app.exception
    texts = " ".join(m.markdown[0].value for m in app.chat_message if m.markdown)
    assert "approved after review" in texts
    tickets = _tickets(data_dir)
    assert len(tickets) == 1 and tickets[0]["reviewer"] == "ana"


def test_approve_without_reviewer_is_refused(app, data_dir):
    app.chat_input[0].set_value("I want a refund of $900 for order #48213").run()
    _button(app, "Approve").click().run()
    assert any("reviewer name" in e.value for e in app.error)
    assert _tickets(data_dir) == []
    assert any("Under review" in w.value for w in app.warning)


def test_bad_message_shows_error(app):
    app.chat_input[0].set_value("abc\x00def").run()
    assert not app.exception
    assert any("binary" in e.value for e in app.error)


def test_kill_switch_toggle_is_audited(app, data_dir):
    from app.audit import AuditLog

    next(b for b in app.sidebar.button if b.key == "kill-switch").click().run()
    assert any("your name" in e.value for e in app.error)  # anonymous operators are refused
    app.sidebar.text_input(key="reviewer").set_value("ops-lead").run()
    next(b for b in app.sidebar.button if b.key == "kill-switch").click().run()
    assert any("ON" in m.value for m in app.sidebar.markdown)
    events = [e for e in AuditLog(make_settings(data_dir).app_db).entries() if e["event"].startswith("kill_switch")]
    assert [e["actor"] for e in events] == ["operator:ops-lead"]
