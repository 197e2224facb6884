"""Shadow runs: a candidate policy beside the live one, differences reported, no candidate side effects live."""

from __future__ import annotations

import json

import pytest

from app.eval.data import load_scenarios
from app.eval.shadow import ShadowConfigError, differences, load_overrides
from tests.helpers import ROOT, run_cli

SUITE = ROOT / "tests" / "fixtures" / "scenarios.jsonl"


@pytest.fixture
def candidate(tmp_path):
    """The default policy with a $400 automatic-refund limit instead of $500."""
    text = (ROOT / "app" / "config" / "policy.yaml").read_text(encoding="utf-8")
    assert text.count("500") >= 2
    (tmp_path / "policy-400.yaml").write_text(text.replace("amount_lte: 500", "amount_lte: 400")
                                              .replace("amount_gt: 500", "amount_gt: 400"), encoding="utf-8")
    cfg = tmp_path / "candidate.yaml"
    cfg.write_text("policy_file: policy-400.yaml\nretrieval_k: 4\n", encoding="utf-8")
    return cfg


def test_overrides_resolve_relative_paths_and_refuse_unknown_or_live_only_settings(tmp_path, candidate):
    o = load_overrides(candidate)
    assert o["policy_file"] == tmp_path / "policy-400.yaml" and o["retrieval_k"] == 4
    for body, needle in (("data_dir: /tmp/x", "'data_dir' is not a setting"),
                         ("polcy_file: a.yaml", "'polcy_file' is not a setting"),
                         ("retrieval_k: many", "retrieval_k: Input should be a valid integer"),
                         ("[1, 2]", "expected a non-empty mapping")):
        bad = tmp_path / "bad.yaml"
        bad.write_text(body)
        with pytest.raises(ShadowConfigError, match=needle):
            load_overrides(bad)


def test_differences_are_per_scenario_turn_and_decision():
    live = [{"id": "a", "trace": [{"intent": "x", "route": ["r"], "outcome": "answered", "policy_rules": [],
                                   "final_outcome": "answered"}]}]
    cand = [{"id": "a", "trace": [{"intent": "x", "route": ["r"], "outcome": "refused", "policy_rules": ["deny"],
                                   "final_outcome": "refused"}]}]
    assert [(d["field"], d["live"], d["candidate"]) for d in differences(live, cand)] == [
        ("outcome", "answered", "refused"), ("policy_rules", [], ["deny"]), ("final_outcome", "answered", "refused")]
    assert differences(live, live) == []


def test_candidate_400_limit_flags_the_450_refund_and_touches_nothing_live(desk, services, candidate):
    from app.eval.run import run_suite
    from app.eval.shadow import run_shadow

    scs = [s for s in load_scenarios(SUITE) if s.id in ("refund-450", "refund-120", "q-return-window")]
    live = run_suite(desk, scs, run_id="r1", progress=False)
    tickets_before = services.tickets.list()
    audit_before = len(services.audit.entries())
    report = run_shadow(desk, scs, "leave", "r1", load_overrides(candidate), live, progress=False)

    diffs = {(d["id"], d["field"]): d for d in report["differences"]}
    assert {i for i, _ in diffs} == {"refund-450"}  # $120 and the question decide the same under both
    assert diffs[("refund-450", "policy_rules")]["live"] == ["refund-auto-approve"]
    assert diffs[("refund-450", "policy_rules")]["candidate"] == ["refund-over-limit"]
    assert diffs[("refund-450", "outcome")]["candidate"] == "escalated_pending_review"
    cand_450 = next(r for r in report["candidate_results"] if r["id"] == "refund-450")
    assert cand_450["thread_id"].startswith("shadow-") and cand_450["review"]

    assert services.tickets.list() == tickets_before  # no candidate ticket in the live store
    assert all(t["thread_id"].startswith("eval-r1-") for t in tickets_before) and len(tickets_before) == 2
    assert len(services.audit.entries()) == audit_before
    assert not any(e["thread_id"].startswith("shadow-") for e in services.audit.entries())
    assert desk.pending_reviews() == []  # the candidate's paused refund stayed in its sandbox


@pytest.mark.slow
def test_cli_shadow_report(data_dir, tmp_path, candidate):
    scen = tmp_path / "s.jsonl"
    by = {s.id: s for s in load_scenarios(SUITE)}
    scen.write_text(by["refund-450"].model_dump_json(exclude_none=True) + "\n")
    out = tmp_path / "res.jsonl"
    p = run_cli(data_dir, "eval", "--scenarios", str(scen), "--out", str(out), "--shadow", str(candidate),
                "--no-progress")
    assert p.returncode == 0, p.stderr
    report = json.loads((tmp_path / "res.shadow.json").read_text())
    assert report["scenarios_differing"] == 1
    assert "1 of 1 scenarios differ" in p.stdout
    tickets = json.loads(run_cli(data_dir, "tickets", "list", "--json").stdout)
    assert len(tickets) == 1 and tickets[0]["thread_id"].startswith("eval-")
