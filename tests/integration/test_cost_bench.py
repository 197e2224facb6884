"""`bench cost` end to end on a few scenarios: the same counting fake model behind both architectures."""

from __future__ import annotations

import json

import pytest

from app.bench.cost import load_scenarios, run

SCENARIOS = [
    {"id": "q", "intent": "password_reset", "messages": ["I can't remember my password, how do I get a new one?"]},
    {"id": "a", "intent": "cancel_order", "messages": ["Please cancel order #49920, I ordered it by mistake."]},
    {"id": "e", "intent": "human_agent", "messages": ["My order is late again.", "Just put me through to a person."]},
]


def test_bench_cost_counts_both_graphs(data_dir, tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(json.dumps(s) for s in SCENARIOS), encoding="utf-8")
    report = run(path, data_dir=data_dir)
    assert report["scenarios"] == 3 and report["turns"] == 4
    mine, base = report["project"], report["baseline"]
    assert mine["triage_accuracy"] == 1.0
    assert base["llm_calls_by_kind"]["action"] == 10  # 4 supervisor hops + 3 workers × (tool call + answer)
    assert mine["llm_calls_by_kind"]["action"] <= 1 and mine["llm_calls_by_kind"]["question"] <= 3
    assert 0 < report["ratio"]["llm_calls"] < 1 and 0 < report["ratio"]["prompt_tokens"] < 1
    assert [r["id"] for r in report["per_scenario"]] == ["q", "a", "e"]


def test_scenarios_file_is_checked(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "messages": []}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="bad.jsonl:1"):
        load_scenarios(bad)
