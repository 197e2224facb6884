"""Per-turn evaluation through the real graph and the `eval` CLI in a new process. The per-turn file form, the
support lead's figures and the conversation set on their own are tests/unit/app/test_eval_turns.py."""

from __future__ import annotations

import json

import pytest

from app.eval.data import load_scenarios
from app.eval.score import score_summary
from tests.helpers import run_cli, write_jsonl


def _write(tmp_path, lines, name="c.jsonl"):
    return write_jsonl(tmp_path / name, lines)


def _conv(id_, *expects, **extra):
    return {"id": id_, "turns": [{"message": f"m{i}", "expect": e} for i, e in enumerate(expects)], **extra}


def test_per_turn_run_sends_every_turn_and_records_what_each_did(desk, tmp_path):
    from app.eval.run import run_suite

    messages = ["I want a refund of $900 for order #48213", "", "How do I reset my password?"]
    per_turn = {"id": "pt", "customer": {"id": "c1"},
                "turns": [{"message": m, "expect": {"error": False}} for m in messages]}
    old = {"id": "old", "customer": {"id": "c2"}, "message": messages[0], "turns": messages[1:]}
    auto = _conv("auto", {"ticket": True})
    auto["turns"][0]["message"] = "Please refund $120 for order #BW-12345, it arrived broken."
    scs = load_scenarios(_write(tmp_path, [per_turn, old, auto]))
    res = {r["id"]: r for r in run_suite(desk, scs, run_id="pt", progress=False)}

    trace = res["pt"]["trace"]
    assert [t["turn"] for t in trace] == [1, 2, 3]  # a pending review and a bad message do not end it
    first = trace[0]
    assert first["review"] and first["outcome"] == "escalated_pending_review" and first["tickets"] == []
    (action,) = first["actions"]
    assert action["args"]["amount"] == 900 and action["required"] == ["order_id", "amount"]
    assert trace[1]["error"] == "message is empty" and trace[1]["outcome"] == "error"
    third = trace[2]  # the review is still waiting: shown as pending, not as a decision taken on this turn
    assert third["review"] and third["policy_rules"] == [] and third["actions"] == []
    assert all(t["latency_ms"] is not None for t in trace)

    assert len(res["old"]["trace"]) == 1 and "paused for review at turn 1" in res["old"]["error"]

    (step,) = res["auto"]["trace"]
    assert step["tickets"] == [step["ticket_id"]] and step["ticket_id"]
    assert [a["source"] for a in step["actions"]] == ["policy"]  # the ticket's action is the same one

    s = score_summary(list(res.values()), scs)
    assert s["turns"]["sent"] == 5 and s["turn_latency_ms"]["n"] == 5
    assert ("pt", 2) in {(f["id"], f.get("turn")) for f in s["failures"]}


@pytest.mark.slow
def test_cli_prints_and_writes_the_new_figures(data_dir, tmp_path):
    scen = _write(tmp_path, [
        {**_conv("hi", {"outcome": "answered", "ticket": False}), "split": "dev"},
        {**_conv("other", {"ticket": False}), "split": "val"},
    ])
    scen.write_text(scen.read_text().replace('"m0"', '"How do I reset my password?"'))
    out = tmp_path / "res.jsonl"
    p = run_cli(data_dir, "eval", "--scenarios", str(scen), "--out", str(out), "--no-progress", "--split", "dev")
    assert p.returncode == 0, p.stderr
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["hi"]
    summary = json.loads((tmp_path / "res.summary.json").read_text())
    assert summary["split"] == "dev" and summary["turns"]["checked"] == 1
    for key in ("unneeded_tickets", "missed_escalations", "actions_missing_args", "turn_latency_ms"):
        assert key in summary
    assert "per-turn accuracy:" in p.stdout and "unneeded tickets:" in p.stdout
    assert "actions without required args:" in p.stdout and "turn latency p50/p95 ms:" in p.stdout
    bad = run_cli(data_dir, "eval", "--scenarios", str(scen), "--out", str(out), "--split", "nope")
    assert bad.returncode == 2 and "no scenarios with split 'nope'" in bad.stderr
