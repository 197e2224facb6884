"""The CLI as a user runs it: separate processes sharing one data directory."""

from __future__ import annotations

import json

import pytest

from tests.helpers import SAMPLE_KB, run_cli

pytestmark = pytest.mark.slow


def test_ingest_ask_review_across_processes(tmp_path):
    data = tmp_path / "data"
    out = run_cli(data, "ingest", str(SAMPLE_KB), "--collection", "helpcentre", "--reviewer", "kim",
                  "--token", "demo-kim")
    assert out.returncode == 0, out.stderr
    assert "added" in out.stdout
    again = run_cli(data, "ingest", str(SAMPLE_KB), "--reviewer", "kim", env={"SUPPORT_REVIEWER_TOKEN": "demo-kim"})
    assert " 0 added, 0 updated" in again.stdout  # unchanged documents are skipped

    q = run_cli(data, "ask", "How do I reset my password?", "--json")
    assert q.returncode == 0, q.stderr
    res = json.loads(q.stdout)
    assert res["outcome"] == "answered" and res["citations"][0]["doc_id"] == "password-reset.md"

    paused = json.loads(run_cli(data, "ask", "Refund $900 for order #55120 please", "--json").stdout)
    assert paused["outcome"] == "escalated_pending_review" and paused["pending_review"]
    tid = paused["thread_id"]

    listed = run_cli(data, "review", "list", "--json")
    assert [item["thread_id"] for item in json.loads(listed.stdout)] == [tid]

    bad = run_cli(data, "review", "approve", "no-such-thread", "--reviewer", "ana")
    assert bad.returncode == 2 and "unknown thread id" in bad.stderr

    ok = run_cli(data, "review", "approve", tid, "--reviewer", "ana", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["outcome"] == "ticket_created"

    twice = run_cli(data, "review", "approve", tid, "--reviewer", "ana")
    assert twice.returncode == 2 and "no pending review" in twice.stderr

    tickets = json.loads(run_cli(data, "tickets", "list", "--json").stdout)
    assert len(tickets) == 1 and tickets[0]["thread_id"] == tid and tickets[0]["reviewer"] == "ana"


def test_cli_errors_are_clear(tmp_path):
    data = tmp_path / "data"
    empty = run_cli(data, "ask", "   ")
    assert empty.returncode == 2 and "message is empty" in empty.stderr
    missing = run_cli(data, "ingest", str(SAMPLE_KB / "nope"), "--reviewer", "kim", "--token", "demo-kim")
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr
    bad_policy = tmp_path / "policy.yaml"
    bad_policy.write_text("version: 1\nrules:\n  - id: r1\n    effect: review\n")
    checked = run_cli(data, "policy", "check", str(bad_policy))
    assert checked.returncode == 2 and "rule 'r1'" in checked.stderr and "reviewer_role" in checked.stderr
    asked = run_cli(data, "ask", "hello", env={"SUPPORT_POLICY_FILE": str(bad_policy)})
    assert asked.returncode == 2 and str(bad_policy) in asked.stderr
