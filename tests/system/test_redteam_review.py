"""Red team, review and decisions (issue #19): limits that can't be laundered, reviewer identity proven on every
path, an audit trail that follows the checkpoint, killed approvals completed, bad resume values refused.

Each test reproduces an attack or accident that worked before; the key ones run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from langgraph.types import Command

from agents.compliance.reviewers import ReviewerError
from app.bench.redteam_probes import nested
from app.desk import NoPendingReviewError, ReviewPayloadError, SupportDesk
from app.review import door
from app.services import Services
from tests.helpers import ROOT, make_settings, run_cli

BIG = "I want a refund of $5,000 for order #55120, the TV arrived broken"
MID = "I want a refund of $900 for order #55120"


@pytest.fixture(params=["sqlite", "postgres"])
def pdesk(request, data_dir):
    """A desk on SQLite, or with every relational store (checkpoints, claims, audit, tickets) in PostgreSQL."""
    overrides = {} if request.param == "sqlite" else {"database_url": request.getfixturevalue("pg_url")}
    d = SupportDesk(services=Services.from_settings(make_settings(data_dir, **overrides)))
    yield d
    d.close()


def _config(tid: str) -> dict:
    return {"configurable": {"thread_id": tid}}


def _pending(desk, tid: str) -> dict:
    snap = desk.graph.get_state(_config(tid))
    assert snap.interrupts, f"thread {tid} is not paused"
    return snap.interrupts[0].value


def _graph_resume(desk, tid: str, decision: dict) -> dict | None:
    """What Studio or the SDK do: a resume value straight to the graph (no API, no CLI); the pending payload
    afterwards (None when decided)."""
    desk.graph.invoke(Command(resume={"decisions": [decision]}), _config(tid), context=desk.runner.context,
                      durability="sync")
    snap = desk.graph.get_state(_config(tid))
    return snap.interrupts[0].value if snap.interrupts else None


def _events(desk, tid: str, event: str) -> list[dict]:
    return [e for e in desk.services.audit.entries(tid) if e["event"] == event]


def _state(desk, tid: str) -> dict:
    return desk.graph.get_state(_config(tid)).values


# ---- 1. decisions: limits that can't be laundered -----------------------------------------------------------
def test_a_blanked_amount_cannot_launder_an_approval_limit(pdesk):
    """$5,000 pending; bo blanked the amount (re-asked as "amount unknown"), then sam ($500 limit) approved it."""
    tid = pdesk.send(BIG).thread_id
    with pytest.raises(ReviewPayloadError, match="may not remove or blank the argument 'amount'"):
        pdesk.edit(tid, reviewer="bo", args={"amount": None})
    pending = _graph_resume(pdesk, tid, {"type": "edit", "reviewer": "max", "token": "demo-max",
                                         "edited_action": {"name": "refund", "args": {"order_id": "55120"}}})
    assert "may not remove or blank the argument 'amount'" in pending["metadata"]["error"]
    assert pending["action_requests"][0]["args"]["amount"] == 5000
    with pytest.raises(ReviewerError):
        pdesk.approve(tid, reviewer="sam")
    sam = pdesk.reviews.registry.get("sam")  # had the amount been blanked, the limit would still apply
    assert "above reviewer 'sam''s approval limit" in sam.may_decide("billing-agent", None, carried=5000)
    assert pdesk.services.tickets.list() == [] and _events(pdesk, tid, "review_decision") == []
    refused = _events(pdesk, tid, "review_refused")
    assert {"reviewer:bo", "reviewer:max", "reviewer:sam"} <= {e["actor"] for e in refused}


def test_edited_amounts_must_be_finite_and_positive(desk, services):
    """NaN was accepted (the customer was told "Your refund of USD nan … approved"), and so was zero."""
    tid = desk.send(MID).thread_id
    for bad in (math.nan, math.inf, -math.inf, -5, 0, 0.0, True, "300", None, 10**400):
        with pytest.raises(ReviewPayloadError, match="amount"):
            desk.edit(tid, reviewer="ana", args={"amount": bad})
    assert "amount must be a finite number above zero" in _graph_resume(
        desk, tid, {"type": "edit", "reviewer": "ana", "token": "demo-ana",
                    "edited_action": {"name": "refund", "args": {"order_id": "55120", "amount": math.nan,
                                                                 "currency": "USD"}}})["metadata"]["error"]
    assert services.tickets.list() == [] and _events(desk, tid, "review_decision") == []
    done = desk.edit(tid, reviewer="ana", args={"amount": 300})
    assert done.outcome == "ticket_created" and "nan" not in done.answer.lower()


def test_an_edit_may_not_drop_or_blank_an_argument_the_action_has(desk, services):
    tid = desk.send(MID).thread_id
    with pytest.raises(ReviewPayloadError, match="'order_id'"):
        desk.edit(tid, reviewer="ana", args={"order_id": "  "})
    with pytest.raises(ReviewPayloadError, match="'currency'"):
        desk.edit(tid, reviewer="ana", args={"currency": None})
    pending = _graph_resume(desk, tid, {"type": "edit", "reviewer": "ana", "token": "demo-ana",
                                        "edited_action": {"name": "refund", "args": {"amount": 300}}})
    assert "may not remove or blank the argument 'order_id'" in pending["metadata"]["error"]
    assert services.tickets.list() == []


def test_the_limit_is_the_largest_amount_the_action_ever_carried(pdesk):
    """A reviewer may lower an amount, but the limit that applies stays the largest the action carried: bo may
    not lower a $5,000 refund, and once max lowered it to $300 (re-asked: the kill switch is on), ana may not
    approve it either."""
    svc = pdesk.services
    tid = pdesk.send(BIG).thread_id
    with pytest.raises(ReviewerError, match="amount 5,000.00 is above reviewer 'bo''s approval limit"):
        pdesk.edit(tid, reviewer="bo", args={"amount": 300})
    svc.controls.set_kill_switch(True, actor="ops", reason="red team")
    r = pdesk.edit(tid, reviewer="max", args={"amount": 300})
    assert r.pending_review and r.pending_review["metadata"]["rule_id"] == "kill-switch"
    assert r.pending_review["metadata"]["max_amount"] == 5000 and r.pending_review["action_requests"][0]["args"][
        "amount"] == 300
    (edit,) = _events(pdesk, tid, "review_edit")  # the intermediate edit, with its actor
    assert edit["actor"] == "reviewer:max" and edit["evidence"]["edited_args"]["amount"] == 300
    assert edit["evidence"]["via"] == "python-api" and "re-asked under rule kill-switch" in edit["reason"]
    (item,) = pdesk.inbox()
    assert item["limit_amount"] == 5000 and item["qualified"] == ["max"]
    with pytest.raises(ReviewerError, match="amount 5,000.00 is above reviewer 'ana''s approval limit"):
        pdesk.approve(tid, reviewer="ana")
    done = pdesk.approve(tid, reviewer="max")
    assert done.outcome == "ticket_created"
    (ticket,) = svc.tickets.list()
    assert ticket["action"]["args"]["amount"] == 300 and ticket["reviewer"] == "max"
    assert [e["actor"] for e in _events(pdesk, tid, "review_decision")] == ["reviewer:max"]
    assert len(_events(pdesk, tid, "review_edit")) == 1  # the final run replayed the edit: logged once


def test_an_intermediate_edit_sent_straight_to_the_graph_is_audited_with_its_actor(desk, services):
    """An edit that lands on another review rule (the kill switch is on: $300 would be automatic) is re-asked;
    it left no audit entry."""
    tid = desk.send(MID).thread_id
    services.controls.set_kill_switch(True, actor="ops", reason="red team")
    args = {**_pending(desk, tid)["action_requests"][0]["args"], "amount": 300}
    pending = _graph_resume(desk, tid, {"type": "edit", "reviewer": "ana", "token": "demo-ana",
                                        "edited_action": {"name": "refund", "args": args}})
    assert pending["metadata"]["rule_id"] == "kill-switch" and not pending["metadata"].get("error")
    assert pending["metadata"]["previous"]["reviewer"] == "ana"
    assert _graph_resume(desk, tid, {"type": "approve", "reviewer": "max", "token": "demo-max"}) is None
    (edit,) = _events(desk, tid, "review_edit")
    (final,) = _events(desk, tid, "review_decision")
    assert edit["actor"] == "reviewer:ana" and edit["evidence"]["via"] == "graph:token"
    assert final["actor"] == "reviewer:max" and final["evidence"]["review"]["via"] == "graph:token"
    assert services.tickets.list()[0]["action"]["args"]["amount"] == 300


# ---- 2. reviewer identity on every path ------------------------------------------------------------------
def test_a_bare_reviewer_id_sent_to_the_graph_is_refused_and_audited(pdesk):
    """Through `langgraph dev` / the SDK, {"type": "approve", "reviewer": "max"} approved a $900 refund as max."""
    svc = pdesk.services
    tid = pdesk.send(MID).thread_id
    first = _pending(pdesk, tid)
    pending = _graph_resume(pdesk, tid, {"type": "approve", "reviewer": "max"})
    assert "is not proven" in pending["metadata"]["error"]
    snap = pdesk.graph.get_state(_config(tid))
    assert snap.interrupts[0].id == pending["metadata"]["review_id"] != first["metadata"]["review_id"]
    pending = _graph_resume(pdesk, tid, {"type": "approve", "reviewer": "max", "token": "demo-ana"})
    assert "unknown reviewer or wrong token" in pending["metadata"]["error"]
    rid = pending["metadata"]["review_id"]
    forged = {"type": "approve", "reviewer": "max", "via": "operator-cli"}
    forged["signature"] = svc.sign_decision("another-thread", rid, forged)  # a real signature, replayed
    assert "signature does not match" in _graph_resume(pdesk, tid, forged)["metadata"]["error"]
    assert svc.tickets.list() == [] and _events(pdesk, tid, "review_decision") == []
    refused = _events(pdesk, tid, "review_refused")
    assert [e["actor"] for e in refused] == ["unverified:max"] * 3
    assert "is not proven" in refused[0]["reason"]

    assert _graph_resume(pdesk, tid, {"type": "approve", "reviewer": "max", "token": "demo-max"}) is None
    (decision,) = _events(pdesk, tid, "review_decision")
    assert decision["actor"] == "reviewer:max"
    assert (decision["evidence"]["review"]["via"], decision["evidence"]["review"]["proof"]) == ("graph:token", "token")
    assert svc.tickets.list()[0]["reviewer"] == "max"
    assert "demo-max" not in json.dumps(_state(pdesk, tid)["compliance"])  # the token is never kept
    assert all("demo-" not in json.dumps(e) for e in svc.audit.entries(tid))


def test_the_api_and_cli_sign_their_decisions_and_name_their_door(desk, services, data_dir):
    api = desk.send(MID).thread_id
    desk.approve(api, reviewer="ana")
    (entry,) = _events(desk, api, "review_decision")
    assert (entry["evidence"]["review"]["via"], entry["evidence"]["review"]["proof"]) == ("python-api", "signature")
    assert "via python-api" in entry["reason"]

    cli = desk.send(MID).thread_id
    desk.close()
    out = run_cli(data_dir, "review", "approve", cli, "--reviewer", "bo")
    assert out.returncode == 0, out.stderr
    (entry,) = _events(desk, cli, "review_decision")
    assert entry["actor"] == "reviewer:bo" and entry["evidence"]["review"]["via"] == "operator-cli"


def test_a_decision_sent_to_the_graph_takes_the_review_claim(pdesk):
    """Resumes straight to the graph skipped the claim table: one could land while the API was deciding."""
    svc = pdesk.services
    tid = pdesk.send(MID).thread_id
    rid = _pending(pdesk, tid)["metadata"]["review_id"]
    svc.claims.claim(tid, rid, "ana", "reject", "digest-of-anas-decision")  # the API is resuming it right now
    pending = _graph_resume(pdesk, tid, {"type": "approve", "reviewer": "bo", "token": "demo-bo"})
    assert "being decided right now by ana" in pending["metadata"]["error"]
    (refused,) = _events(pdesk, tid, "review_refused")
    assert refused["actor"] == "reviewer:bo" and svc.tickets.list() == []
    assert svc.claims.get(tid, rid)["reviewer"] == "ana"

    again = pending["metadata"]["review_id"]
    assert _graph_resume(pdesk, tid, {"type": "approve", "reviewer": "bo", "token": "demo-bo"}) is None
    claim = svc.claims.get(tid, again)
    assert (claim["reviewer"], claim["decision"]) == ("bo", "approve")
    assert len(svc.tickets.list()) == 1 and len(_events(pdesk, tid, "review_refused")) == 1  # replayed, not re-logged


# ---- 3. the audit trail follows the checkpoint -----------------------------------------------------------
KILL_AFTER_DECISION_AUDIT = """
import os, sys
from app.desk import SupportDesk
from app.services import Services
from app.store.audit import AuditLog
from tests.helpers import make_settings

real = AuditLog.record
def record(self, key, thread_id, agent, event, *args, **kwargs):
    out = real(self, key, thread_id, agent, event, *args, **kwargs)
    if event == "review_decision":
        os._exit(9)  # kill -9 right after the decision's audit entry is written
    return out
AuditLog.record = record
desk = SupportDesk(services=Services.from_settings(make_settings(sys.argv[1])))
desk.reject(sys.argv[2], reviewer="ana", message="Outside the return window.")
"""


def test_an_audited_decision_is_the_one_that_took_effect_after_a_kill(desk, services, data_dir):
    """ana rejects, the process dies right after the audit write, bo approves: the audit said ana rejected while
    the ticket was approved by bo."""
    tid = desk.send(MID).thread_id
    killed = subprocess.run([sys.executable, "-c", KILL_AFTER_DECISION_AUDIT, str(data_dir), tid], cwd=ROOT,
                            env={**__import__("os").environ, "SUPPORT_OFFLINE": "true"}, capture_output=True,
                            text=True, timeout=300)
    assert killed.returncode == 9, killed.stderr[-2000:]
    try:
        desk.approve(tid, reviewer="bo")
    except door.ReviewClaimedError as exc:  # ana's decision had taken effect: it is completed, bo's is not applied
        assert "already decided by ana" in str(exc)
    values = _state(desk, tid)
    review = values["compliance"]["review"]
    decisions = _events(desk, tid, "review_decision")
    assert [(e["actor"], e["evidence"]["review"]["decision"]) for e in decisions] == \
        [(f"reviewer:{review['reviewer']}", review["decision"])]
    tickets = services.tickets.list()
    assert [t["reviewer"] for t in tickets if t.get("reviewer")] in ([], [review["reviewer"]])
    assert (review["reviewer"], values["compliance"]["status"]) in (("ana", "rejected"), ("bo", "approved"))


def test_a_deeply_nested_edit_is_refused_and_leaves_no_approved_entry(desk, services):
    tid = desk.send(MID).thread_id
    with pytest.raises(ReviewPayloadError, match="nested more than 20 levels"):
        desk.edit(tid, reviewer="ana", args={"amount": 300, "details": nested(900)})
    with pytest.raises(ReviewPayloadError, match="nested more than 20 levels"):  # was an uncaught RecursionError
        desk.resume(tid, {"decisions": [{"type": "approve", "reviewer": "ana", "note": nested(5000)}]})
    assert _events(desk, tid, "review_decision") == [] and services.tickets.list() == []
    assert desk.get(tid).pending_review and desk.approve(tid, reviewer="ana").outcome == "ticket_created"


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def test_oversized_edit_arguments_are_refused_before_anything_is_stored(desk, services, data_dir):
    """5 MB of edit arguments grew the data directory by 165 MB."""
    tid = desk.send(MID).thread_id
    before = _size(data_dir)
    with pytest.raises(ReviewPayloadError, match="limit is 64 KB"):
        desk.edit(tid, reviewer="ana", args={"amount": 300, "comment": "x" * 5_000_000})
    with pytest.raises(ReviewPayloadError, match="larger than 64 KB"):
        desk.edit(tid, reviewer="ana", args={"amount": 300, "items": list(range(100_000))})
    assert _size(data_dir) - before < 1_000_000
    assert desk.get(tid).pending_review is not None and services.tickets.list() == []


def test_reviewer_text_and_edit_arguments_are_redacted_before_storage(desk, services, data_dir):
    email, phone = "jane.roe@example.com", "415-555-0134"
    edited = desk.send(MID).thread_id
    action = _pending(desk, edited)["action_requests"][0]
    desk.resume(edited, {"decisions": [{"type": "edit", "reviewer": "ana", "note": f"she called from {phone}",
                                        "edited_action": {"name": "refund", "args": {
                                            **action["args"], "amount": 400, "reason": f"write to {email}"}}}]})
    rejected = desk.send(MID).thread_id
    r = desk.reject(rejected, reviewer="ana", message=f"Sorry - reply to {email} with the receipt.")
    assert "[EMAIL]" in r.answer and email not in r.answer
    review = _state(desk, edited)["compliance"]["review"]
    assert review["note"] == "she called from [PHONE]" and review["edited_args"]["reason"] == "write to [EMAIL]"
    assert review["edited_args"]["order_id"] == "55120"  # identifiers and amounts are never redacted
    desk.close()
    for f in data_dir.rglob("*"):
        if f.is_file() and "chroma" not in f.parts:
            blob = f.read_bytes()
            assert email.encode() not in blob and phone.encode() not in blob, f


# ---- 4. a killed approval is completed by the next decision --------------------------------------------
def _kill_approval_before(desk, tid: str, node: str) -> None:
    """Drive the API's own steps, but stop the run before `node`, as a kill -9 there would leave it."""
    steps = door.decide_steps(desk.services, tid, {"decisions": [{"type": "approve", "reviewer": "ana"}]})
    step = next(steps)
    step = steps.send(desk.graph.get_state(step.config))
    desk.graph.invoke(step.input, step.config, context=desk.runner.context, durability="sync",
                      interrupt_before=[node])
    steps.close()
    snap = desk.graph.get_state(_config(tid))
    assert snap.next == (node,) and not snap.interrupts


@pytest.mark.parametrize("node", ["ticketing", "respond"])
def test_a_killed_approval_is_finished_by_the_next_approve(desk, services, node):
    """Killed before (or after) ticket creation, every later approve said "has no pending review"; killed
    before, no ticket ever existed."""
    tid = desk.send(MID).thread_id
    _kill_approval_before(desk, tid, node)
    assert len(services.tickets.list()) == (0 if node == "ticketing" else 1)
    rid = _state(desk, tid)["compliance"]["review"]["review_id"]
    services.claims.claim(tid, rid, "ana", "approve")  # while ana's run is alive, it is not a crash's leftover
    with pytest.raises(door.ReviewClaimedError, match="being decided right now by ana"):
        desk.approve(tid, reviewer="bo")
    services.claims.release(tid, rid)  # ... and now it has died
    r = desk.approve(tid, reviewer="bo")
    assert r.outcome == "ticket_created" and r.ticket_id
    (ticket,) = services.tickets.list()
    assert ticket["id"] == r.ticket_id and ticket["reviewer"] == "ana"  # the decision that was taken, finished
    assert [e["actor"] for e in _events(desk, tid, "review_decision")] == ["reviewer:ana"]
    with pytest.raises(NoPendingReviewError):
        desk.approve(tid, reviewer="bo")


def test_review_approve_on_the_cli_finishes_a_killed_approval(desk, services, data_dir):
    tid = desk.send(MID).thread_id
    _kill_approval_before(desk, tid, "ticketing")
    desk.close()
    out = run_cli(data_dir, "review", "approve", tid, "--reviewer", "ana", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["outcome"] == "ticket_created" and len(services.tickets.list()) == 1
    again = run_cli(data_dir, "review", "approve", tid, "--reviewer", "ana")
    assert again.returncode == 2 and "has no pending review" in again.stderr
