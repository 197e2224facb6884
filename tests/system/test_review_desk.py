"""Inbox across threads, qualified reviewers, edits, races and SLA escalation, through the real graph."""

from __future__ import annotations

import threading
import time

import pytest

from agents.compliance.reviewers import ReviewerError
from app.desk import NoPendingReviewError, SupportDesk, TurnResult
from app.review import door
from app.store.review_claims import ClaimTakenError, ReviewClaims

HOUR = 3600


def _decisions(services, tid):
    return [e for e in services.audit.entries(tid) if e["event"] == "review_decision"]


def test_inbox_lists_every_paused_thread_with_its_facts(desk, services):
    big = desk.send("I want a refund of $900 for order #55120", customer={"id": "c1", "tier": "plus"}).thread_id
    legal = desk.send("Refund $300 for order #23456 or my lawyer will take legal action").thread_id
    huge = desk.send("Please refund $3,000 for order #77120, the TV arrived broken").thread_id
    small = desk.send("Refund $25 for order #77001 please")
    assert small.outcome == "ticket_created"

    other = SupportDesk(services=services)  # a fresh checkpointer connection sees the same inbox
    items = {i["thread_id"]: i for i in other.inbox()}
    assert set(items) == {big, legal, huge}
    b = items[big]
    assert (b["rule_id"], b["amount"], b["tier"], b["customer_id"], b["queue"]) == \
        ("refund-over-limit", 900.0, "plus", "c1", "billing")
    assert b["reason"] == "Refund above the $500 automatic limit." and b["action"] == "refund"
    assert b["age_seconds"] >= 0 and b["age"] and b["sla_hours"] == 4 and not b["overdue"]
    assert b["qualified"] == ["ana", "bo", "max"] and b["priority"] == "normal"
    assert b["interrupt_id"] and b["review"]["metadata"]["rule_id"] == "refund-over-limit"
    assert items[legal]["queue"] == "legal" and "lee" in items[legal]["qualified"]
    assert items[huge]["queue"] == "general" and items[huge]["qualified"] == ["max"]  # above every lead's limit

    assert {i["thread_id"] for i in other.inbox(queue="billing")} == {big}
    assert {i["thread_id"] for i in other.inbox(reviewer="bo")} == {big}
    assert {i["thread_id"] for i in other.inbox(reviewer="lee")} == {legal}
    assert {i["thread_id"] for i in other.inbox(reviewer="max")} == {huge}
    with pytest.raises(ReviewerError, match="unknown reviewer 'zed'"):
        other.inbox(reviewer="zed")
    assert {p["thread_id"] for p in other.pending_reviews()} == {big, legal, huge}  # the old API still works
    other.close()


def test_unqualified_reviewers_are_refused_and_the_thread_stays_resumable(desk, services):
    legal = desk.send("Refund $300 for order #23456 or my lawyer will take legal action").thread_id
    huge = desk.send("Please refund $3,000 for order #77120, the TV arrived broken").thread_id
    with pytest.raises(ReviewerError, match="does not hold the role 'legal'"):
        desk.approve(legal, reviewer="bo")
    with pytest.raises(ReviewerError, match="above reviewer 'ana''s approval limit"):
        desk.approve(huge, reviewer="ana")
    with pytest.raises(ReviewerError, match="does not hold the role 'legal'"):
        desk.reject(legal, reviewer="bo", message="no")  # a rejection needs the role (not the limit, below)
    with pytest.raises(ReviewerError, match="unknown reviewer"):
        desk.approve(huge, reviewer="someone")
    assert desk.get(legal).pending_review and desk.get(huge).pending_review
    refused = [e for e in services.audit.entries() if e["event"] == "review_refused"]
    assert [e["actor"] for e in refused] == ["reviewer:bo", "reviewer:ana", "reviewer:bo", "reviewer:someone"]
    assert services.tickets.list() == []
    assert desk.approve(legal, reviewer="lee").outcome == "ticket_created"
    assert desk.approve(huge, reviewer="max").outcome == "ticket_created"
    assert [t["reviewer"] for t in services.tickets.list()] in (["lee", "max"], ["max", "lee"])


def test_edit_reruns_policy_and_the_limit_applies_to_the_edited_amount(desk, services):
    tid = desk.send("I want a refund of $900 for order #55120").thread_id
    with pytest.raises(ReviewerError, match="amount 2,500.00 is above reviewer 'bo''s approval limit"):
        desk.edit(tid, reviewer="bo", args={"amount": 2500})
    assert desk.get(tid).pending_review is not None and services.tickets.list() == []
    done = desk.edit(tid, reviewer="bo", args={"amount": 300})
    assert done.outcome == "ticket_created" and done.policy["rule_id"] == "refund-auto-approve"
    (ticket,) = services.tickets.list()
    assert ticket["action"]["args"]["amount"] == 300
    (entry,) = _decisions(services, tid)
    assert entry["evidence"]["review"]["edited_args"]["amount"] == 300


def test_graph_checks_the_reviewer_for_clients_that_bypass_the_api(desk, services):
    """Studio / SDK resumes go straight to the graph: an unqualified reviewer is asked again, with the reason."""
    from langgraph.types import Command

    from graphs.context import SupportContext

    tid = desk.send("I want a refund of $900 for order #55120").thread_id
    config = {"configurable": {"thread_id": tid}}
    desk.graph.invoke(Command(resume={"decisions": [{"type": "approve", "reviewer": "sam", "token": "demo-sam"}]}),
                      config, context=SupportContext(services=services))  # proven (its token), not qualified
    snap = desk.graph.get_state(config)
    assert snap.interrupts and "does not hold the role 'billing-lead'" in snap.interrupts[0].value["metadata"]["error"]
    assert services.tickets.list() == []
    assert desk.approve(tid, reviewer="bo").outcome == "ticket_created"


def test_two_reviewers_racing_on_one_item_exactly_one_wins(desk, services, monkeypatch):
    tid = desk.send("I want a refund of $900 for order #55120").thread_id
    other = SupportDesk(services=services)
    barrier, real = threading.Barrier(2), door.authorize

    def both_checked(*args, **kwargs):  # both reviewers pass every check before either claims
        out = real(*args, **kwargs)
        barrier.wait(timeout=120)
        return out

    monkeypatch.setattr(door, "authorize", both_checked)
    results: dict[str, object] = {}

    def decide(name, d, call):
        try:
            results[name] = call(d)
        except Exception as exc:  # the loser's error is the point
            results[name] = exc

    threads = [threading.Thread(target=decide, args=("ana", desk, lambda d: d.approve(tid, reviewer="ana"))),
               threading.Thread(target=decide, args=("bo", other, lambda d: d.reject(tid, reviewer="bo")))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    wins = [v for v in results.values() if isinstance(v, TurnResult)]
    losses = [v for v in results.values() if isinstance(v, Exception)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert isinstance(losses[0], door.ReviewClaimedError) and isinstance(losses[0], NoPendingReviewError)
    assert "being decided right now by" in str(losses[0]) or "already decided by" in str(losses[0])
    assert len(_decisions(services, tid)) == 1  # resumed exactly once
    assert len(services.tickets.list()) == (1 if wins[0].outcome == "ticket_created" else 0)
    with pytest.raises(NoPendingReviewError):
        desk.approve(tid, reviewer="ana")
    other.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_claims_store(tmp_path, backend, request):
    target = tmp_path / "c.sqlite" if backend == "sqlite" else request.getfixturevalue("pg_url")
    claims = ReviewClaims(target, stale_after=60)
    claims.claim("t1", "i1", "ana", "approve")
    with pytest.raises(ClaimTakenError, match="being decided right now by ana"):
        claims.claim("t1", "i1", "bo", "reject")
    claims.claim("t1", "i2", "bo", "reject")  # another interrupt of the same thread is another item
    claims.finish("t1", "i1")
    with pytest.raises(ClaimTakenError, match="already decided by ana"):
        claims.claim("t1", "i1", "bo", "approve")
    claims.release("t1", "i2")  # a failed resume gives the item back
    claims.claim("t1", "i2", "max", "approve")
    stale = ReviewClaims(target, stale_after=0)  # holder crashed long ago: taken over
    time.sleep(0.01)
    stale.claim("t1", "i2", "ana", "approve")
    assert stale.get("t1", "i2")["reviewer"] == "ana"
    with pytest.raises(ClaimTakenError):
        stale.claim("t1", "i1", "ana", "approve")  # a finished claim is never taken over


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_claim_whose_holder_process_died_is_taken_over_at_once(tmp_path, backend, request):
    import socket
    import subprocess
    import sys

    from app.store.db import connect

    target = tmp_path / "c.sqlite" if backend == "sqlite" else request.getfixturevalue("pg_url")
    claims = ReviewClaims(target)  # stale only after 10 minutes
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for interrupt_id, holder in (("dead", dead.pid), ("alive", alive.pid)):
            claims.claim("t-holder", interrupt_id, "ana", "approve")
            with connect(target).connect() as c:  # as if that process had claimed it and then been killed
                c.execute("UPDATE review_claims SET holder = ? WHERE thread_id = 't-holder' AND interrupt_id = ?",
                          (f"{socket.gethostname()}:{holder}", interrupt_id))
        claims.claim("t-holder", "dead", "bo", "reject")
        assert claims.get("t-holder", "dead")["reviewer"] == "bo"
        with pytest.raises(ClaimTakenError, match="being decided right now by ana"):
            claims.claim("t-holder", "alive", "bo", "reject")
    finally:
        alive.kill()
        alive.wait()


def test_claims_table_from_an_older_version_is_migrated(tmp_path):
    import sqlite3

    target = tmp_path / "old.sqlite"
    with sqlite3.connect(target) as raw:
        raw.execute("CREATE TABLE review_claims (thread_id TEXT NOT NULL, interrupt_id TEXT NOT NULL, "
                    "reviewer TEXT NOT NULL, decision TEXT NOT NULL, status TEXT NOT NULL, claimed_at REAL NOT NULL, "
                    "finished_at REAL, PRIMARY KEY (thread_id, interrupt_id))")
        raw.execute("INSERT INTO review_claims VALUES ('t0', 'i0', 'ana', 'approve', 'done', 1.0, 2.0)")
    claims = ReviewClaims(target)
    claims.claim("t1", "i1", "bo", "approve")
    assert claims.get("t1", "i1")["holder"] and claims.get("t0", "i0")["holder"] is None


def test_sla_sweep_escalates_overdue_items_once(desk, services):
    billing = desk.send("I want a refund of $900 for order #55120").thread_id
    legal = desk.send("Refund $300 for order #23456 or my lawyer will take legal action").thread_id
    later = time.time() + 5 * HOUR  # billing SLA is 4 h, legal 8 h

    first = desk.sla_sweep(now=later)
    assert [(e["thread_id"], e["priority"], e["escalated_to"]) for e in first] == [(billing, "high", "supervisor")]
    assert desk.sla_sweep(now=later) == []  # idempotent
    items = {i["thread_id"]: i for i in desk.reviews.inbox(now=later)}
    assert items[billing]["overdue"] and items[billing]["priority"] == "high"
    assert items[billing]["escalated_to"] == "supervisor" and not items[legal]["overdue"]
    assert billing in {i["thread_id"] for i in desk.reviews.inbox(reviewer="max", now=later)}  # the notified role
    (entry,) = [e for e in services.audit.entries(billing) if e["event"] == "sla_escalation"]
    assert entry["actor"] == "system:sla" and entry["evidence"]["escalated_to"] == "supervisor"
    assert entry["evidence"]["priority_from"] == "normal" and entry["evidence"]["priority_to"] == "high"
    assert "max" in entry["evidence"]["notified"] and "overdue by" in entry["reason"]

    much_later = time.time() + 9 * HOUR
    assert [e["thread_id"] for e in desk.sla_sweep(now=much_later)] == [legal]
    assert len([e for e in services.audit.entries() if e["event"] == "sla_escalation"]) == 2
    assert services.audit.verify().ok
    assert desk.approve(billing, reviewer="bo").outcome == "ticket_created"  # escalation does not block a decision


def test_inbox_and_claims_on_postgres(data_dir, pg_url):
    from app.services import Services
    from tests.helpers import make_settings

    desk = SupportDesk(services=Services.from_settings(make_settings(data_dir, database_url=pg_url)))
    tid = desk.send("I want a refund of $900 for order #55120").thread_id
    (item,) = desk.inbox(reviewer="bo")
    assert item["thread_id"] == tid
    assert desk.approve(tid, reviewer="bo").outcome == "ticket_created"
    claim = desk.reviews.claims.get(tid, item["interrupt_id"])  # the claim lives in PostgreSQL
    assert desk.reviews.claims.db.postgres and (claim["reviewer"], claim["status"]) == ("bo", "done")
    with pytest.raises(NoPendingReviewError):
        desk.approve(tid, reviewer="bo")
    assert desk.inbox() == []
    desk.close()


def test_a_rejection_needs_the_role_not_the_limit_and_a_rejected_threat_stays_with_its_queue(desk, services):
    """The duty lead (limit 2,000) could not reject the $3,000 legal item, and a rejected legal threat left no
    ticket for legal to follow up. Refusing moves no money; the threat still needs a person."""
    legal = desk.send("Refund $3,000 for order #23456 or my lawyer will take legal action").thread_id
    plain = desk.send("Please refund $900 for order #77121, it arrived late").thread_id
    assert desk.get(legal).pending_review["metadata"]["queue"] == "legal"
    with pytest.raises(ReviewerError, match="approval limit"):
        desk.approve(legal, reviewer="ana")  # approving it is still above her limit
    r = desk.reject(legal, reviewer="ana", message="We can't refund an order that was delivered and used.")
    assert r.outcome == "refused" and r.ticket_id and r.execution is None
    (ticket,) = services.tickets.list()
    assert ticket["queue"] == "legal" and ticket["status"] == "open" and ticket["reviewer"] == "ana"
    assert ticket["action"]["name"] == "follow_up" and ticket["action"]["args"]["rejected"] == "refund"
    assert ticket["summary"].startswith("Follow-up: refund rejected in review")
    assert r.answer.startswith("We can't refund an order") and f"ticket {ticket['id']}" in r.answer
    assert services.executions.of_thread(legal) == []  # nothing was carried out
    r = desk.reject(plain, reviewer="ana", message="Late delivery is covered by a voucher.")
    assert r.outcome == "refused" and r.ticket_id is None and len(services.tickets.list()) == 1  # billing: final


def test_response_times_count_from_the_customers_message_not_from_the_ticket(desk, services):
    """A ticket a review opens later once read "resolved in 0 s": the clock now starts at the customer's message."""
    import time

    asked = time.time()
    paused = desk.send("Please refund $900 for order #77122, it arrived broken").thread_id
    time.sleep(1.5)  # the review wait
    r = desk.approve(paused, reviewer="ana")
    ticket = services.tickets.get(r.ticket_id)
    assert asked <= ticket["asked_at"] < ticket["created_at"] - 1.0
    (times,) = services.tickets.response_times(r.ticket_id)
    assert ticket["status"] == "solved" and times["resolution_s"] >= 1.5  # a record of the approved refund
    made = desk.send("Do you ship to Antarctica by drone?")  # a ticket for a person, opened at once
    time.sleep(1.0)
    desk.tickets.reply(made.ticket_id, "ana", "By air freight.", status="solved")
    (times,) = services.tickets.response_times(made.ticket_id)
    assert times["first_response_s"] >= 1.0 and times["resolution_s"] >= 1.0
