"""Agent reliability: scoring on synthetic histories, reading them back from the audit trail, and the
supervisor sending a question to a person when research has been unreliable on that intent."""

from __future__ import annotations

import time

import pytest

from app.reliability.scores import Observation, TurnRecord, collect, observations, recontacts, scores

DAY = 86400.0
NOW = 1_800_000_000.0


def _obs(agent, intent, n_ok, n_bad, age_days=0.0, reason="grounding_failure"):
    ts = NOW - age_days * DAY
    return ([Observation(agent, intent, ts, True) for _ in range(n_ok)]
            + [Observation(agent, intent, ts, False, reason) for _ in range(n_bad)])


def test_prior_trusts_new_intents_and_evidence_moves_the_score():
    s = scores(_obs("research", "password_reset", 20, 0) + _obs("research", "refund_policy", 2, 12), NOW)
    assert s[("research", "password_reset")].score > 0.9
    low = s[("research", "refund_policy")]
    assert low.score < 0.5 and low.trials == 14 and low.failures == {"grounding_failure": 12}
    assert ("research", "privacy") not in s  # never seen: no score, the prior (0.9) applies


def test_old_failures_fade_and_leave_the_window():
    fresh = scores(_obs("research", "x", 0, 10), NOW)[("research", "x")].score
    two_half_lives = scores(_obs("research", "x", 0, 10, age_days=14), NOW)[("research", "x")].score
    assert fresh < two_half_lives < 0.9
    assert scores(_obs("research", "x", 0, 10, age_days=45), NOW) == {}  # outside the 30-day window


def _turn(thread, turn, ts, intent, agents, **kw):
    return TurnRecord(thread, turn, ts, intent=intent, agents=set(agents), **kw)


def test_signals_are_blamed_on_the_right_agent():
    turns = [
        _turn("t1", 1, NOW, "refund_request", ["triage", "research", "compliance"], overturned=True,
              outcome="refused"),
        _turn("t2", 1, NOW, "troubleshooting", ["triage", "research"], grounding_failure=True),
        _turn("t3", 1, NOW, "privacy", ["triage", "research"], errors={"research"}),
    ]
    by = {(o.agent, o.intent): o for o in observations(turns, 72 * 3600)}
    assert by[("compliance", "refund_request")].reason == "overturn"
    assert by[("research", "refund_request")].ok and by[("triage", "refund_request")].ok
    assert by[("research", "troubleshooting")].reason == "grounding_failure"
    assert by[("research", "privacy")].reason == "error"


def test_recontact_within_window_blames_the_automatic_answer():
    answered = _turn("a", 1, NOW, "order_status", ["triage", "research"], outcome="answered", customer="c1")
    back_soon = _turn("b", 1, NOW + 3600, "order_status", ["triage", "research"], outcome="answered", customer="c1")
    other_intent = _turn("c", 1, NOW + 7200, "privacy", ["triage", "research"], outcome="answered", customer="c1")
    assert [(t.thread_id, a) for t, a in recontacts([answered, back_soon, other_intent], 72 * 3600)] == \
        [("a", "research")]
    much_later = _turn("b", 1, NOW + 5 * DAY, "order_status", ["triage", "research"], outcome="answered", customer="c1")
    assert recontacts([answered, much_later], 72 * 3600) == []
    same_thread = _turn("a", 2, NOW + 60, "order_status", ["triage", "research"], outcome="answered")
    assert len(recontacts([_turn("a", 1, NOW, "order_status", ["research"], outcome="answered"), same_thread],
                          72 * 3600)) == 1


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
