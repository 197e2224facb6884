"""Evaluation runs through the real graph and the `eval` CLI in a new process. Scenario files, scoring, the shipped
suite and tau2 conversion on their own are tests/unit/app/test_eval.py."""

from __future__ import annotations

import json

import pytest

from app.eval.data import RESULT_FIELDS, load_scenarios
from app.eval.score import score_summary
from tests.helpers import ROOT, run_cli, write_jsonl

SUITE = ROOT / "tests" / "fixtures" / "scenarios.jsonl"


def _write(tmp_path, lines):
    return write_jsonl(tmp_path / "s.jsonl", lines)


def _pick(*ids):
    by = {s.id: s for s in load_scenarios(SUITE)}
    return [by[i] for i in ids]


def test_suite_scenarios_run_through_the_graph(desk, services):
    from app.eval.run import run_suite

    scs = _pick("q-password-forgot", "refund-450", "refund-900", "acct-email-unverified", "human-request",
                "bad-empty", "mt-question-then-refund")
    results = run_suite(desk, scs, review="leave", run_id="t1", progress=False)
    assert [r["id"] for r in results] == [s.id for s in scs]
    for r in results:
        assert set(RESULT_FIELDS) <= set(r) and r["thread_id"] == f"eval-t1-{r['id']}"
    summary = score_summary(results, scs)
    assert summary["failures"] == [], summary["failures"]
    by = {r["id"]: r for r in results}
    assert by["refund-900"]["policy_rules"] == ["refund-over-limit"] and by["refund-900"]["review"]
    assert by["bad-empty"]["error"] == "message is empty"
    assert len(by["mt-question-then-refund"]["trace"]) == 2
    assert [p["thread_id"] for p in desk.pending_reviews()] == ["eval-t1-refund-900"]  # left pending
    cust = services.tickets.get(by["refund-450"]["ticket_id"])["customer_id"]
    assert cust == "eval-t1-c-450"  # namespaced per run: repeated runs don't count as frequent refunds


@pytest.mark.parametrize("mode, final, decision", [("approve", "ticket_created", "approve"),
                                                   ("reject", "refused", "reject")])
def test_review_modes_decide_as_eval_bot(desk, services, mode, final, decision):
    from app.eval.run import run_suite

    (r,) = run_suite(desk, _pick("refund-900"), review=mode, run_id=mode, progress=False, reviewer="ana")
    assert r["outcome"] == "escalated_pending_review" and r["final_outcome"] == final and r["review"], r["error"]
    assert desk.pending_reviews() == []
    entries = [e for e in services.audit.entries(r["thread_id"]) if e["event"] == "review_decision"]
    assert entries[0]["actor"] == "reviewer:ana" and entries[0]["evidence"]["review"]["decision"] == decision


def test_unregistered_reviewer_is_reported_and_the_thread_stays_pending(desk):
    from app.eval.run import run_suite

    (r,) = run_suite(desk, _pick("refund-900"), review="approve", run_id="nobody", progress=False,
                     reviewer="not-a-reviewer")
    assert r["outcome"] == r["final_outcome"] == "escalated_pending_review"
    assert "review approve as 'not-a-reviewer' refused" in r["error"]
    assert [p["thread_id"] for p in desk.pending_reviews()] == [r["thread_id"]]


@pytest.mark.slow
def test_cli_eval_writes_results_summary_and_reports_failures(data_dir, tmp_path):
    scen = _write(tmp_path, [
        {"id": "ok", "message": "How do I reset my password?",
         "expect": {"intent": "password_reset", "outcome": "answered"}},
        {"id": "wrong", "message": "Close my account.", "customer": {"verified": False},
         "expect": {"outcome": "answered"}},
        {"id": "bin", "message": "\u0000\u0001abc", "expect": {"outcome": "error"}},
    ])
    out = tmp_path / "res.jsonl"
    p = run_cli(data_dir, "eval", "--scenarios", str(scen), "--out", str(out), "--no-progress")
    assert p.returncode == 0, p.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["outcome"] for r in rows] == ["answered", "refused", "error"]
    summary = json.loads((tmp_path / "res.summary.json").read_text())
    assert summary["passed"] == 2 and summary["failures"][0]["id"] == "wrong"
    assert "wrong: outcome: expected 'answered', got 'refused'" in p.stdout
    bad = run_cli(data_dir, "eval", "--scenarios", str(_write(tmp_path, ["{oops"])), "--out", str(out))
    assert bad.returncode == 2 and "s.jsonl:1: not valid JSON" in bad.stderr
    for extra, needle in ((["--review", "approve"], "needs --reviewer"),
                          (["--review", "reject", "--reviewer", "eval-bot"], "unknown reviewer 'eval-bot'")):
        refused = run_cli(data_dir, "eval", "--scenarios", str(scen), "--out", str(tmp_path / "x.jsonl"), *extra)
        assert refused.returncode == 2 and needle in refused.stderr, refused.stderr
        assert not (tmp_path / "x.jsonl").exists()  # refused before anything ran
