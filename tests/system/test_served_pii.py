"""Graphs served by `langgraph dev`: personal data in a run's input never reaches the server's storage raw.

The server checkpoints input before the graph runs, so redaction inside the graph would be too late; the custom
HTTP app in langgraph.json (app/studio_http.py) redacts the request body first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.studio_http import redact_body

pytestmark = pytest.mark.slow
EMAIL, PHONE = "jane.roe@example.com", "415-555-0199"


def test_run_bodies_are_redacted_where_run_data_lives():
    body = (b'{"assistant_id": "supervisor", "input": {"messages": [{"role": "user", "content": "mail '
            + EMAIL.encode() + b'"}]}, "command": {"resume": {"note": "call ' + PHONE.encode() + b'"}}}')
    out = redact_body(body).decode()
    assert EMAIL not in out and PHONE not in out and '"assistant_id": "supervisor"' in out
    assert redact_body(b"not json") == b"not json"


def test_served_supervisor_stores_no_raw_personal_data(dev_server, data_dir, tmp_path):
    thread = dev_server.threads.create()
    text = f"Hi, I'm locked out. My email is {EMAIL} and my phone is {PHONE}. How do I reset my password?"
    out = dev_server.runs.wait(thread["thread_id"], "supervisor",
                               input={"messages": [{"role": "user", "content": text}]})
    assert out["outcome"] == "answered"
    state = dev_server.threads.get_state(thread["thread_id"])
    assert EMAIL not in str(state) and PHONE not in str(state)
    stored = [p for root in (tmp_path / "project", Path(data_dir)) for p in root.rglob("*") if p.is_file()]
    assert stored, "the server kept nothing on disk?"
    for path in stored:
        raw = path.read_bytes()
        assert EMAIL.encode() not in raw and PHONE.encode() not in raw, path
