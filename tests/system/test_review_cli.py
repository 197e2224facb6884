"""Reviews are durable and can be decided from any process: the CLI in separate processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.helpers import ROOT, run_cli

pytestmark = pytest.mark.slow


def _decisions(services, tid):
    return [e for e in services.audit.entries(tid) if e["event"] == "review_decision"]


def test_pending_reviews_survive_restart_and_are_decided_elsewhere(desk, services, data_dir):
    big = desk.send("I want a refund of $900 for order #55120", customer={"id": "c9", "tier": "plus"}).thread_id
    legal = desk.send("Refund $300 for order #23456 or my lawyer will take legal action").thread_id
    desk.close()  # the process that paused them is gone as far as the CLI is concerned

    listed = run_cli(data_dir, "review", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    items = {i["thread_id"]: i for i in json.loads(listed.stdout)}
    assert set(items) == {big, legal}
    assert (items[big]["amount"], items[big]["tier"], items[big]["queue"]) == (900.0, "plus", "billing")
    mine = run_cli(data_dir, "review", "list", "--reviewer", "lee")
    assert legal in mine.stdout and big not in mine.stdout

    refused = run_cli(data_dir, "review", "approve", legal, "--reviewer", "bo")
    assert refused.returncode == 2 and "does not hold the role 'legal'" in refused.stderr

    swept = run_cli(data_dir, "review", "sla", "--now", str(time.time() + 5 * 3600), "--json")
    assert [e["thread_id"] for e in json.loads(swept.stdout)["escalated"]] == [big]
    again = run_cli(data_dir, "review", "sla", "--now", str(time.time() + 5 * 3600))
    assert again.returncode == 0 and "0 overdue review(s) escalated" in again.stdout
    shown = run_cli(data_dir, "review", "list")
    assert "→ supervisor" in shown.stdout and "high" in shown.stdout

    ok = run_cli(data_dir, "review", "approve", legal, "--reviewer", "lee", "--note", "fine, receipt checked")
    assert ok.returncode == 0, ok.stderr
    assert "approve by lee · ticket_created · ticket T-" in ok.stdout  # text by default, like `ask`
    with pytest.raises(json.JSONDecodeError):
        json.loads(ok.stdout)
    assert _decisions(services, legal)[0]["actor"] == "reviewer:lee"
    # the note reaches the audit story (text and JSON) and the ticket the decision created
    story = run_cli(data_dir, "audit", "show", legal)
    assert "note: fine, receipt checked" in story.stdout, story.stdout
    (ticket,) = services.tickets.list(thread_id=legal)
    shown = json.loads(run_cli(data_dir, "tickets", "show", ticket["id"], "--json").stdout)
    assert [(e["kind"], e["actor"], e["body"]) for e in shown["events"]] == [
        ("note", "lee", "review note: fine, receipt checked")]


def test_two_processes_racing_on_one_review(desk, services, data_dir):
    tid = desk.send("I want a refund of $900 for order #55120").thread_id
    env = {**os.environ, "SUPPORT_OFFLINE": "true"}
    cmds = [["review", "approve", tid, "--reviewer", "ana"], ["review", "reject", tid, "--reviewer", "bo"]]
    procs = [subprocess.Popen([sys.executable, "-m", "app", "--data-dir", str(data_dir), *c], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in cmds]
    results = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes == [0, 2], results
    loser = next(r for r in results if r[0] == 2)[2]
    assert any(s in loser for s in ("already decided by", "being decided right now by", "has no pending review"))
    assert len(_decisions(services, tid)) == 1  # resumed exactly once


def test_group_commands(desk, services, data_dir):
    tids = [desk.send(f"I want a refund of ${amt} for order #5512{k}, the laptop arrived broken.").thread_id
            for k, amt in enumerate((650, 700, 820))]
    listed = run_cli(data_dir, "review", "groups", "--json")
    (group,) = json.loads(listed.stdout)
    assert group["count"] == 3 and sorted(group["thread_ids"]) == sorted(tids)
    done = run_cli(data_dir, "review", "approve-group", group["group_id"], "--reviewer", "bo", "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert len(body["decided"]) == 3 and body["failed"] == []
    assert all(len(_decisions(services, t)) == 1 for t in tids) and len(services.tickets.list()) == 3
    gone = run_cli(data_dir, "review", "approve-group", group["group_id"], "--reviewer", "bo")
    assert gone.returncode == 2 and "review groups` again" in gone.stderr


def test_review_json_and_a_busy_thread_exits_75(desk, services, data_dir):
    tid = desk.send("I want a refund of $900 for order #55120").thread_id
    with desk.runner.hold(tid):  # another run holds the thread
        busy = run_cli(data_dir, "review", "approve", tid, "--reviewer", "ana",
                       env={"SUPPORT_THREAD_LOCK_TIMEOUT": "0.5"})
    assert busy.returncode == 75, (busy.returncode, busy.stderr)
    assert "thread busy, retry" in busy.stderr and "Traceback" not in busy.stderr
    assert _decisions(services, tid) == [] and services.tickets.list() == []  # nothing recorded
    ok = run_cli(data_dir, "review", "approve", tid, "--reviewer", "ana", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["outcome"] == "ticket_created"


def test_an_edit_that_lowers_the_amount_needs_a_message_for_the_customer(desk, services, data_dir):
    tid = desk.send("I want a refund of $900 for order #55120", customer={"id": "c10"}).thread_id
    desk.close()
    bare = run_cli(data_dir, "review", "edit", tid, "--reviewer", "ana", "--args", '{"amount": 300}')
    assert bare.returncode == 2 and "add --message" in bare.stderr
    assert _decisions(services, tid) == []
    told = run_cli(data_dir, "review", "edit", tid, "--reviewer", "ana", "--args", '{"amount": 300}',
                   "--message", "Only the speaker was faulty.", "--json")
    assert told.returncode == 0, told.stderr
    assert json.loads(told.stdout)["answer"].startswith("After review, our team approved $300.00 of the $900.00")
