"""Agent reliability: reading histories back from the audit trail, and the supervisor sending a question to a
person when research has been unreliable on that intent. Scoring alone is tests/unit/app/test_reliability.py."""

from __future__ import annotations

import time

import pytest

from app.reliability.scores import collect


def seed_history(svc, intent: str, n: int, grounded: bool, prefix: str = "hist", ts_offset: float = 0.0) -> None:
    """Synthetic past turns written the way the graph writes them to the audit trail."""
    for i in range(n):
        tid = f"{prefix}-{intent}-{i}"
        svc.audit.record(f"{tid}:1:triage:enrich", tid, "triage", "triage", f"{intent} via classifier (0.9)",
                         evidence={"intent": intent, "kind": "question"})
        svc.audit.record(f"{tid}:1:route:research", tid, "supervisor", "route", f"intent {intent} → research")
        svc.audit.record(f"{tid}:1:answer:check_grounding", tid, "research", "answer",
                         "grounded" if grounded else "not grounded: withheld, flagged for a human",
                         evidence={"retrieved": ["a.md"], "cited": ["a.md"],
                                   "unsupported": [] if grounded else ["an invented claim"]})


def test_collect_rebuilds_turns_from_audit_and_metrics(services):
    seed_history(services, "refund_policy", 3, grounded=False)
    seed_history(services, "refund_policy", 2, grounded=True, prefix="eval-run")  # evaluation threads don't count
    services.metrics.node("err-1", 1, "retrieve", 5.0, "RuntimeError: boom")
    services.audit.record("err-1:1:triage:enrich", "err-1", "triage", "triage", "x",
                          evidence={"intent": "privacy", "kind": "question"})
    turns = collect(services.audit.entries(), services.metrics.errors(), exclude_prefix="eval-")
    assert len(turns) == 4
    failed = [t for t in turns if t.grounding_failure]
    assert len(failed) == 3 and all(t.intent == "refund_policy" and "research" in t.agents for t in failed)
    err = next(t for t in turns if t.thread_id == "err-1")
    assert err.errors == {"research"} and err.intent == "privacy"


def test_unreliable_intent_goes_to_a_person_with_an_audit_reason(desk, services):
    from app.reliability.book import reliability_report

    seed_history(services, "password_reset", 15, grounded=False)
    seed_history(services, "shipping_info", 15, grounded=True)
    rows = {(r["agent"], r["intent"]): r for r in reliability_report(services)}
    assert rows[("research", "password_reset")]["below_threshold"]
    assert not rows[("research", "shipping_info")]["below_threshold"]

    r = desk.send("How do I reset my password? The link never arrives.")
    assert r.intent == "password_reset"
    assert r.route == ["compliance", "ticketing"] and r.outcome == "ticket_created" and r.ticket_id
    gate = [e for e in services.audit.entries(r.thread_id) if e["event"] == "reliability_gate"]
    assert len(gate) == 1 and "research on password_reset" in gate[0]["reason"]
    assert gate[0]["evidence"]["score"] < gate[0]["evidence"]["threshold"]

    ok = desk.send("How long does standard delivery take?")  # a reliable intent is still answered
    assert ok.outcome == "answered" and ok.route == ["research"]


def test_threshold_zero_turns_the_gate_off(data_dir):
    from app.desk import SupportDesk
    from app.services import Services
    from tests.helpers import make_settings

    svc = Services.from_settings(make_settings(data_dir, reliability_threshold=0.0))
    seed_history(svc, "password_reset", 15, grounded=False)
    desk = SupportDesk(services=svc)
    try:
        r = desk.send("How do I reset my password?")
    finally:
        desk.close()
    assert r.outcome == "answered" and r.route == ["research"]


def test_metrics_record_llm_usage_per_agent_once_and_failed_turns(services):
    m = services.metrics
    calls = [{"id": "c1", "agent": "triage", "model": "m", "input_tokens": 10, "output_tokens": 2, "error": None},
             {"id": "c2", "agent": "research", "model": "m", "input_tokens": 30, "output_tokens": 9,
              "error": "Timeout"}]
    m.turn("t1", 1, "privacy", "answered", calls, 12.0)
    m.turn("t1", 1, "privacy", "answered", calls, 12.0)  # a resumed turn reports the same calls again
    m.node("t2", 1, "evaluate", 1.0, "ValueError: bad")
    s = m.summary()
    assert s["llm_by_agent"] == {"research": {"calls": 1, "prompt_tokens": 30, "completion_tokens": 9, "failed": 1},
                                 "triage": {"calls": 1, "prompt_tokens": 10, "completion_tokens": 2, "failed": 0}}
    assert s["outcomes"] == {"answered": 1, "error": 1}
    assert s["by_agent"]["compliance"]["errors"] == 1


@pytest.mark.slow
def test_stats_shows_reliability(data_dir, services):
    import json

    from tests.helpers import run_cli

    seed_history(services, "privacy", 12, grounded=False)
    out = run_cli(data_dir, "stats", "--json")
    assert out.returncode == 0, out.stderr
    rel = json.loads(out.stdout)["reliability"]
    low = [r for r in rel["scores"] if r["below_threshold"]]
    assert [(r["agent"], r["intent"]) for r in low] == [("research", "privacy")]
    assert time.time() - low[0]["updated_at"] < 600
