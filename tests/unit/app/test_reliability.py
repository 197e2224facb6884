"""Agent reliability scoring on synthetic histories (app/reliability/scores.py): priors, fading evidence, blame and
recontacts. Reading histories back from the audit trail and the supervisor's gate are
tests/system/test_reliability.py."""

from __future__ import annotations

from app.reliability.scores import Observation, TurnRecord, observations, recontacts, scores

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
