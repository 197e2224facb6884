"""Human-on-the-loop: policy suggestions from the review history in the audit trail (never applied)."""

from __future__ import annotations

import hashlib
import json
import random
import time

import pytest

from agents.audit_events import audit_update
from app.review.suggest import review_history, suggest
from tests.helpers import run_cli

HOUR = 3600


def _write_history(svc, rng: random.Random, start: float, weeks: int = 4) -> None:
    """Synthetic reviews written through the real audit path (same events the graph writes):
    240 refunds of $500–$800 (97% approved), 60 of $800–$1,500 (half approved), median wait ~3 h."""
    cases = [(rng.uniform(501, 800), i % 33 != 0) for i in range(240)]
    cases += [(rng.uniform(801, 1500), i % 2 == 0) for i in range(60)]
    rng.shuffle(cases)
    span = weeks * 7 * 24 * HOUR
    real_time = time.time
    try:
        for n, (amount, approved) in enumerate(cases):
            paused = start + span * n / len(cases)
            action = {"name": "refund", "args": {"amount": round(amount, 2), "intent": "refund_request"}}
            pending = {"effect": "review", "status": "pending", "rule_id": "refund-over-limit",
                       "policy_version": "v@x", "reason": "Refund above the $500 automatic limit.", "action": action}
            review = {"reviewer": "bo", "decision": "approve" if approved else "reject", "note": None,
                      "rule_id": "refund-over-limit"}
            decided = {**pending, "status": "approved" if approved else "rejected", "review": review}
            state = {"turn": 1}
            time.time = lambda t=paused: t
            audit_update(svc, f"hist-{n}", "evaluate", state, {"compliance": pending})
            time.time = lambda t=paused + rng.uniform(1, 5) * HOUR: t
            # the decision is audited by the node after `review`, from its checkpointed state
            audit_update(svc, f"hist-{n}", "record_decision", {**state, "compliance": decided}, {})
    finally:
        time.time = real_time


def test_review_history_reads_the_real_audit_format(desk, services):
    r = desk.send("I want a refund of $900 for order #55120")
    desk.approve(r.thread_id, reviewer="bo")
    (row,) = review_history(services.audit.entries())
    assert row["thread_id"] == r.thread_id and row["rule_id"] == "refund-over-limit"
    assert row["decision"] == "approve" and row["amount"] == 900 and row["reviewer"] == "bo" and row["wait"] >= 0


def test_suggests_raising_the_limit_with_evidence_and_changes_nothing(services):
    _write_history(services, random.Random(5), start=time.time() - 30 * 24 * HOUR)
    policy_before = services.settings.policy_file.read_bytes()
    found = suggest(services.audit.entries(), services.policy)
    (raise_limit,) = [s for s in found if s["kind"] == "raise_automatic_limit"]
    assert raise_limit["change"]["rule"] == "refund-auto-approve"
    assert raise_limit["change"]["from"] == 500 and raise_limit["change"]["to"] == 800
    ev = raise_limit["evidence"]
    assert ev["reviews"] >= 230 and ev["approval_rate"] >= 0.95
    assert 2 * HOUR <= ev["median_wait_seconds"] <= 4 * HOUR
    assert 50 <= ev["per_week"] <= 70
    assert "between $500 and $800 were approved over" in raise_limit["text"]
    assert "reviews a week" in raise_limit["text"]
    assert services.settings.policy_file.read_bytes() == policy_before


def test_no_suggestion_from_thin_or_mixed_history(services):
    assert suggest([], services.policy) == []
    _write_history(services, random.Random(5), start=time.time() - 30 * 24 * HOUR)
    entries = services.audit.entries()
    assert suggest(entries, services.policy, min_reviews=10_000) == []
    assert [s["kind"] for s in suggest(entries, services.policy, approve_rate=0.99)] == []


@pytest.mark.slow
def test_policy_suggest_cli_never_edits_the_policy(services, data_dir):
    _write_history(services, random.Random(5), start=time.time() - 30 * 24 * HOUR)
    digest = hashlib.sha256(services.settings.policy_file.read_bytes()).hexdigest()
    out = run_cli(data_dir, "policy", "suggest", "--json")
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert any(s["change"]["to"] == 800 for s in body["suggestions"])
    text = run_cli(data_dir, "policy", "suggest")
    assert "raising the automatic limit (refund-auto-approve) to $800" in text.stdout
    assert "was not changed" in text.stdout
    assert hashlib.sha256(services.settings.policy_file.read_bytes()).hexdigest() == digest
