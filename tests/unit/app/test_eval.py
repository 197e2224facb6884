"""Evaluation harness: scenario files, scoring, the shipped suite, tau2 conversion. Runs through the real graph and
the `eval` CLI are tests/system/test_eval.py."""

from __future__ import annotations

import json

import pytest

from app.eval.data import OUTCOMES, RESULT_FIELDS, TURN_OUTCOMES, ScenarioFileError, load_scenarios
from app.eval.score import matches, score_summary
from tests.helpers import ROOT, SHARED_DATA, write_jsonl

SUITE = ROOT / "tests" / "fixtures" / "scenarios.jsonl"


def _write(tmp_path, lines):
    return write_jsonl(tmp_path / "s.jsonl", lines)


@pytest.mark.parametrize("lines, needle", [
    (['{"id": "a", "message": "hi"}', "{not json"], ":2: not valid JSON"),
    ([{"id": "a", "message": "x"}, {"id": "a", "message": "y"}], ":2: duplicate scenario id 'a' (first at line 1)"),
    ([{"id": "a", "message": "x", "expect": {"intnet": "x"}}], "unknown expect field(s) ['intnet']"),
    ([{"id": "a", "message": "x", "expect": {"outcome": "solved"}}], "expect.outcome ['solved'] not one of"),
    ([{"message": "x"}], ":1: invalid scenario '?': id: Field required"),
    (["[1, 2]"], ":1: expected a JSON object"),
])
def test_bad_scenario_files_name_the_line(tmp_path, lines, needle):
    with pytest.raises(ScenarioFileError) as exc:
        load_scenarios(_write(tmp_path, lines))
    assert needle in str(exc.value)


def test_comparison_rules():
    assert matches("outcome", ["answered", "refused"], "refused") and not matches("outcome", "answered", "refused")
    assert matches("route", ["research"], ["research"]) and \
        not matches("route", ["research"], ["research", "ticketing"])
    assert matches("route", [["a"], ["b", "c"]], ["b", "c"])
    assert matches("retrieved", ["a.md"], ["b.md", "a.md"]) and not matches("citations", ["a.md", "c.md"], ["a.md"])
    assert matches("ticket_id", True, "T-1") and matches("ticket_id", False, None) and \
        not matches("ticket_id", True, None)
    assert matches("error", "empty", "message is empty") and not matches("error", False, "boom")
    assert matches("confidence", {"min": 0.5}, 0.7) and not matches("confidence", {"min": 0.5, "max": 0.6}, 0.7)


def test_summary_accuracy_review_precision_recall_and_recall_at_k(tmp_path):
    scs = load_scenarios(_write(tmp_path, [
        {"id": "a", "message": "x", "expect": {"outcome": "answered", "review": False, "retrieved": ["d1", "d2"]}},
        {"id": "b", "message": "x", "expect": {"outcome": "escalated_pending_review", "review": True}},
        {"id": "c", "message": "x", "expect": {"review": True}},
        {"id": "d", "message": "x"},
    ]))
    base = {f: None for f in RESULT_FIELDS} | {"latency_ms": 1.0, "llm_calls": 0, "prompt_tokens": 0,
                                               "completion_tokens": 0, "retrieved": []}
    results = [
        {**base, "id": "a", "outcome": "answered", "review": True, "retrieved": ["d1", "d9"]},
        {**base, "id": "b", "outcome": "escalated_pending_review", "review": True},
        {**base, "id": "c", "outcome": "answered", "review": False},
        {**base, "id": "d", "outcome": "answered", "review": False},
    ]
    s = score_summary(results, scs)
    assert s["with_expectations"] == 3 and s["passed"] == 1
    assert s["fields"]["outcome"] == {"n": 2, "correct": 2, "accuracy": 1.0}
    assert s["fields"]["review"]["accuracy"] == pytest.approx(1 / 3, abs=1e-3)
    assert s["review"] == {"tp": 1, "fp": 1, "fn": 1, "precision": 0.5, "recall": 0.5}
    assert s["retrieval"]["recall_at_k"] == 0.5 and s["retrieval"]["k"] == 2
    assert {f["id"] for f in s["failures"]} == {"a", "c"}


def test_shipped_suite_covers_every_outcome_and_multi_turn():
    suite = load_scenarios(SUITE)
    assert len(suite) >= 60 and all(s.expect for s in suite)
    expected = {o for s in suite for o in ([s.expect["outcome"]] if isinstance(s.expect["outcome"], str)
                                           else s.expect["outcome"])}
    assert set(OUTCOMES) <= expected <= set(TURN_OUTCOMES)
    assert sum(1 for s in suite if s.turns) >= 8
    tags = {t for s in suite for t in s.tags}
    assert {"refund-auto", "refund-review", "refused", "legal", "human", "unanswerable", "bad-input"} <= tags


def test_tau2_conversion(tmp_path):
    from app.eval.tau2 import convert, expected_outcome

    def task(i, actions):
        return {"id": str(i), "user_scenario": {"instructions": {"reason_for_call": f"Reason {i}.",
                                                                  "known_info": "You are Ann in 10001."}},
                "evaluation_criteria": {"actions": [{"name": a, "arguments": {}} for a in actions]}}
    path = tmp_path / "retail" / "tasks_train.json"
    path.parent.mkdir()
    path.write_text(json.dumps([task(0, ["get_order_details"]), task(1, ["find_user_id_by_email",
                                                                            "transfer_to_human_agents"]),
                                task(2, ["cancel_pending_order"])]))
    rows = convert(path)
    assert rows[0]["message"] == "Reason 0. You are Ann in 10001." and rows[0]["id"] == "tau2-retail-0"
    assert [r["expect"]["outcome"] for r in rows] == [
        ["answered", "refused"], expected_outcome(["transfer_to_human_agents"]),
        ["escalated_pending_review", "ticket_created", "refused"]]
    assert "escalated_pending_review" in rows[1]["expect"]["outcome"]


@pytest.mark.skipif(not (SHARED_DATA / "tau2").is_dir(), reason="shared tau2 data not present")
def test_tau2_real_files_convert_and_load(tmp_path):
    from app.eval.data import write_jsonl
    from app.eval.tau2 import convert

    for domain, n in (("retail", 74), ("airline", 30)):
        out = tmp_path / f"{domain}.jsonl"
        write_jsonl(out, convert(SHARED_DATA / "tau2" / domain / "tasks_train.json"))
        assert len(load_scenarios(out)) == n




def test_run_ids_never_look_like_a_card_number(monkeypatch):
    """On 2026-12-07 20:07:36 a run id of digits only ("202612072007361083") passed the Luhn check, so every
    thread of that eval run was refused as personal data."""
    import datetime
    import time
    import uuid

    from app.eval import run
    from app.thread_ids import check_not_personal

    then = datetime.datetime(2026, 12, 7, 20, 7, 36).timetuple()
    real = time.strftime
    monkeypatch.setattr(time, "strftime", lambda fmt, *_: real(fmt, then))
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID("1083" + "0" * 28))
    check_not_personal(run.thread_for("eval", run.new_run_id(), "hi-then-password"), "thread id")
