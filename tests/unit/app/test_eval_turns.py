"""Per-turn evaluation: the `turns: [{message, expect}]` form, the support lead's figures, the conversation set.
Runs through the real graph and the `eval` CLI are tests/system/test_eval_turns.py."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from app.eval.data import Conversation, Scenario, ScenarioFileError, load_scenarios
from app.eval.figures import REQUIRED_ARGS, actions_missing_args, required_args
from app.eval.score import score_summary, turn_check
from tests.helpers import ROOT, write_jsonl

CONVERSATIONS = ROOT / "tests" / "fixtures" / "conversations.jsonl"
OLD_SUITE = ROOT / "tests" / "fixtures" / "scenarios.jsonl"


def _write(tmp_path, lines, name="c.jsonl"):
    return write_jsonl(tmp_path / name, lines)


def _conv(id_, *expects, **extra):
    return {"id": id_, "turns": [{"message": f"m{i}", "expect": e} for i, e in enumerate(expects)], **extra}


# ---- loading ---------------------------------------------------------------------------------------------
def test_per_turn_form_loads_beside_the_old_one(tmp_path):
    scs = load_scenarios(_write(tmp_path, [
        {"id": "old", "message": "hi", "turns": ["and?"], "expect": {"outcome": "answered"}},
        _conv("new", {"outcome": "needs_info", "needs_info": ["order_id"]},
              {"ticket": True, "args": {"order_id": "BW-1"}}, split="val"),
    ]))
    old, new = scs
    assert isinstance(old, Scenario) and not old.per_turn and old.messages == ["hi", "and?"]
    assert isinstance(new, Conversation) and new.per_turn and new.messages == ["m0", "m1"]
    assert new.expect is None and new.split == "val"
    assert new.turns[0].checks == {"outcome": "needs_info", "needs_info": ["order_id"]}  # only the keys given


@pytest.mark.parametrize("line, needle", [
    (_conv("a", {"outcome": "answered"}, {"tickt": False}),
     ":2: invalid scenario 'a': turn 2.expect: unknown expect field 'tickt'; expectable: outcome"),
    ({"id": "a", "turns": [{"message": "hi"}]}, ":2: invalid scenario 'a': turn 1.expect: Field required"),
    (_conv("a", {"ticket": "no"}), "turn 1.expect.ticket: Input should be a valid boolean"),
    (_conv("a", {"outcome": "done"}), "expect.outcome ['done'] not one of answered, ticket_created"),
    (_conv("a", {"args": {}}), "expect.args needs at least one argument name"),
    ({**_conv("a", {"ticket": False}), "expect": {"outcome": "answered"}},
     "a per-turn scenario puts its expectations in each turn"),
    ({"id": "a", "message": "hi", "turns": [{"message": "x", "expect": {}}]},
     "need a scenario without a top-level 'message'"),
    ({"id": "a", "turns": [{"message": "x", "expect": {}, "extra": 1}]}, "turn 1.extra: Extra inputs"),
    ({"id": "a", "turns": []}, "message: Field required"),  # no dict turns: read as the old form
])
def test_bad_per_turn_files_name_the_line_and_turn(tmp_path, line, needle):
    with pytest.raises(ScenarioFileError) as exc:
        load_scenarios(_write(tmp_path, [{"id": "ok", "message": "fine"}, line]))
    assert needle in str(exc.value)
    assert ":2:" in str(exc.value)


def test_split_filter(tmp_path):
    path = _write(tmp_path, [_conv("a", {"ticket": False}, split="dev"), _conv("b", {"ticket": False}, split="val"),
                             {"id": "c", "message": "x"}])
    assert [s.id for s in load_scenarios(path, split="val")] == ["b"]
    assert len(load_scenarios(path)) == 3
    with pytest.raises(ScenarioFileError, match="no scenarios with split 'test'"):
        load_scenarios(path, split="test")


# ---- scoring on hand-written rows ------------------------------------------------------------------------
def _step(turn, **kw):
    base = {"turn": turn, "outcome": "answered", "final_outcome": "answered", "route": [], "policy_rule": None,
            "policy_rules": [], "review": False, "ticket_id": None, "tickets": [], "actions": [], "missing": None,
            "language": None, "answer": "", "citations": [], "retrieved": [], "grounded": None, "llm_calls": 0,
            "latency_ms": 10.0, "error": None}
    return {**base, **kw}


def _row(id_, *steps, **kw):
    last = steps[-1] if steps else {}
    return {"id": id_, "outcome": last.get("outcome", "error"), "review": any(s["review"] for s in steps),
            "ticket_id": next((s["ticket_id"] for s in reversed(steps) if s["ticket_id"]), None),
            "retrieved": [], "latency_ms": 50.0, "llm_calls": 0, "prompt_tokens": 0, "completion_tokens": 0,
            "error": None, "trace": list(steps), **kw}


REFUND = {"name": "refund", "intent": "refund_request", "rule": "refund-auto-approve", "effect": "allow",
          "required": ["order_id", "amount"]}


def test_per_turn_accuracy_and_failures_name_the_turn(tmp_path):
    scs = load_scenarios(_write(tmp_path, [
        _conv("a", {"outcome": "answered", "ticket": False}, {"outcome": "needs_info", "needs_info": ["amount"]},
              {}),  # an empty expectation is not a checked turn
        _conv("b", {"outcome": "ticket_created"}),
    ]))
    results = [
        _row("a", _step(1), _step(2, outcome="needs_info", missing=["amount"]), _step(3)),
        _row("b", _step(1, outcome="answered")),
    ]
    s = score_summary(results, scs)
    assert s["turns"] == {"sent": 4, "checked": 3, "correct": 2, "accuracy": 0.6667}
    assert s["passed"] == 1 and s["with_expectations"] == 2
    assert s["failures"] == [{"id": "b", "turn": 1, "error": None, "mismatches": [
        {"field": "outcome", "expected": "ticket_created", "actual": "answered"}]}]
    assert s["fields"]["needs_info"] == {"n": 1, "correct": 1, "accuracy": 1.0}


def test_unneeded_tickets_count_tickets_where_none_was_needed(tmp_path):
    scs = load_scenarios(_write(tmp_path, [
        _conv("hi", {"ticket": False}, {"outcome": "answered"}, {"outcome": ["needs_info", "refused"]}),
        _conv("pending", {"outcome": "escalated_pending_review"}, {"ticket": True}),
        {"id": "old", "message": "Hi there!", "turns": ["invoice?"], "expect": {"ticket_id": False}},
    ]))
    results = [
        _row("hi", _step(1, tickets=["T-1"], ticket_id="T-1"), _step(2, tickets=["T-2", "T-3"]),
             _step(3, tickets=["T-4"], outcome="refused")),
        _row("pending", _step(1, outcome="escalated_pending_review", tickets=["T-5"], review=True),
             _step(2, tickets=["T-6"])),
        _row("old", _step(1, ticket_id="T-7", tickets=["T-7"]), _step(2)),
    ]
    un = score_summary(results, scs)["unneeded_tickets"]
    assert un["count"] == 5 and un["turns"] == 4
    assert [(w["id"], w["turn"]) for w in un["where"]] == [("hi", 1), ("hi", 2), ("hi", 3), ("old", None)]
    assert score_summary([_row("hi", _step(1), _step(2), _step(3))], scs)["unneeded_tickets"]["count"] == 0


def test_missed_escalations(tmp_path):
    scs = load_scenarios(_write(tmp_path, [
        _conv("fraud", {"review": True}, {"outcome": "escalated_pending_review"}),
        _conv("human", {"ticket": True}, {"outcome": "ticket_created"}, {"outcome": "ticket_created"}),
        {"id": "old", "message": "over limit", "expect": {"review": True}},
    ]))
    results = [
        _row("fraud", _step(1, tickets=["T-1"]), _step(2, outcome="escalated_pending_review", review=True)),
        _row("human", _step(1), _step(2, outcome="escalated_pending_review", review=True),  # a person will decide
             _step(3, outcome="refused")),
        _row("old", _step(1, outcome="ticket_created", ticket_id="T-9")),
    ]
    mi = score_summary(results, scs)["missed_escalations"]
    assert mi["count"] == 4
    assert [(w["id"], w["turn"], w["why"]) for w in mi["where"]] == [
        ("fraud", 1, "review needed, none happened"), ("human", 1, "ticket needed, none opened"),
        ("human", 3, "ticket needed, none opened"), ("old", None, "review needed, none happened")]


def test_actions_without_required_arguments():
    cancel = {"name": "cancel_order", "intent": "cancel_order", "rule": "cancel-order", "effect": "allow",
              "required": ["order_id"]}
    rows = [
        _row("cancel-nothing", _step(1, actions=[{**cancel, "args": {}}])),
        _row("refund-ok", _step(1, actions=[{**REFUND, "args": {"order_id": "BW-1", "amount": 80.0}}])),
        _row("refund-no-amount", _step(1, actions=[{**REFUND, "args": {"order_id": "BW-1", "amount": None}}]),
             _step(2, actions=[{**REFUND, "args": {"order_id": "BW-1", "amount": None}}])),  # same action: once
        _row("asked-then-review", _step(1, outcome="needs_info"),
             _step(2, actions=[{**REFUND, "effect": "review", "rule": "refund-amount-unknown",
                                "args": {"order_id": "BW-2"}}])),  # the documented fallback
        _row("review-without-asking", _step(1, actions=[{**REFUND, "effect": "review", "args": {}}])),
        _row("no-required-recorded", _step(1, actions=[{"name": "account_change", "intent": "change_account_details",
                                                        "effect": "deny", "args": {"field": "email"}}])),
        _row("escalate", _step(1, actions=[{"name": "escalate", "intent": "human_agent", "args": {}}])),
    ]
    s = score_summary(rows, [])  # measured on every turn, with or without expectations
    got = [(w["id"], w["turn"], w["missing"]) for w in s["actions_missing_args"]["where"]]
    assert got == [("cancel-nothing", 1, ["order_id"]), ("refund-no-amount", 1, ["amount"]),
                   ("review-without-asking", 1, ["order_id", "amount"]),
                   ("no-required-recorded", 1, ["value"])]
    assert s["actions_missing_args"]["count"] == 4
    assert actions_missing_args(rows[1]) == []


def test_required_args_come_from_the_taxonomy_slots_when_declared():
    class Spec(BaseModel):
        kind: str = "action"
        slots: list[str] = []

    class Tax(BaseModel):
        intents: dict[str, Spec]

    tax = Tax(intents={"refund_request": Spec(slots=["order_id"]), "cancel_order": Spec(),
                       "close_account": Spec(slots=[])})
    assert required_args("refund_request", "refund", tax) == ("order_id",)
    assert required_args("cancel_order", "cancel_order", tax) == REQUIRED_ARGS["cancel_order"]  # not declared
    assert required_args("close_account", "close_account", tax) == ()  # declared empty: the file decides
    assert required_args(None, "account_change") == ("field", "value")
    assert required_args("product_question", None) == ()


def test_turn_latency_p50_from_every_sent_turn():
    rows = [_row("a", _step(1, latency_ms=10.0), _step(2, latency_ms=30.0)), _row("b", _step(1, latency_ms=20.0)),
            _row("c", _step(1, latency_ms=None))]
    tl = score_summary(rows, [])["turn_latency_ms"]
    assert tl["n"] == 3 and tl["p50"] == 20.0


@pytest.mark.parametrize("field, want, obs, ok", [
    ("ticket", False, {"tickets": [], "ticket_id": None}, True),
    ("ticket", True, {"tickets": [], "ticket_id": "T-1"}, True),
    ("needs_info", ["order_id"], {"outcome": "needs_info", "missing": ["order_id"]}, True),
    ("needs_info", ["order_id"], {"outcome": "needs_info", "missing": ["order_id", "amount"]}, False),
    ("needs_info", ["order_id", "amount"],
     {"outcome": "needs_info", "answer": "Which order is it (the order number, BW-…) and what amount?"}, True),
    ("needs_info", True, {"outcome": "answered"}, False),
    ("answer_contains", ["your request", ["team", "équipe"]], {"answer": "Your  REQUEST is with our team."}, True),
    ("answer_contains", ["steps"], {"answer": None}, False),
    ("answer_excludes", ["has been approved"], {"answer": "Your refund has been approved."}, False),
    ("language", "fr", {"language": "fr-FR"}, True),
    ("language", ["de", "es"], {"language": None}, False),
    ("route_contains", "compliance", {"route": ["research", "compliance", "ticketing"]}, True),
    ("policy_rule", ["cancel-order"], {"policy_rules": [], "actions": [{"rule": "cancel-order"}]}, True),
    ("args", {"order_id": "BW-61616", "amount": 80},
     {"actions": [{"args": {"order_id": "#bw-61616", "amount": "80.0"}}]}, True),
    ("args", {"order_id": "BW-61616"}, {"actions": [{"args": {"order_id": "61616"}}]}, True),
    ("args", {"amount": 1200}, {"actions": [{"args": {"amount": 1.2}}]}, False),
    ("args", {"value": True}, {"actions": [{"args": {"field": "email"}}]}, False),
    ("args", [{"order_id": "1"}, {"order_id": "2"}], {"actions": [{"args": {"order_id": "1"}}]}, False),
    ("review", True, {"review": True}, True),
    ("error", False, {"error": "thread … is waiting for a review decision"}, False),
])
def test_turn_comparison_rules(field, want, obs, ok):
    assert turn_check(field, want, obs)[0] is ok


# ---- the old form is unchanged ----------------------------------------------------------------------------
def test_old_form_scores_as_before_and_counts_one_turn_per_scenario(tmp_path):
    scs = load_scenarios(_write(tmp_path, [
        {"id": "a", "message": "x", "expect": {"outcome": "answered", "ticket_id": False}},
        {"id": "b", "message": "x", "expect": {"outcome": "ticket_created"}},
    ]))
    rows = [_row("a", _step(1)), _row("b", _step(1, outcome="answered"))]
    s = score_summary(rows, scs)
    assert s["passed"] == 1 and [f["id"] for f in s["failures"]] == ["b"] and "turn" not in s["failures"][0]
    assert s["turns"]["checked"] == 2 and s["turns"]["correct"] == 1
    assert len(load_scenarios(OLD_SUITE)) == 80


# ---- the conversation set ------------------------------------------------------------------------------------
def test_conversation_set_covers_what_the_issue_asks_for():
    convs = load_scenarios(CONVERSATIONS)
    assert len(convs) >= 60 and all(c.per_turn for c in convs)
    assert sum(len(c.turns) > 1 for c in convs) >= 30
    splits = [c.split for c in convs]
    assert set(splits) == {"dev", "val"} and 0.25 <= splits.count("val") / len(splits) <= 0.4
    tags = {t for c in convs for t in c.tags}
    assert {"smalltalk", "out-of-scope", "unclear", "action-question", "slots", "refund", "fraud", "legal", "human",
            "multi-request", "pending", "withdraw", "follow-up", "amount", "fr", "de", "es", "typo"} <= tags
    bare = [t.message for c in convs for t in c.turns if t.checks.get("outcome") == "ticket_created"
            and len(str(t.message).split()) == 1]
    assert "BW-61616" in bare  # a bare order id fills a pending cancellation
    assert all(t.checks for c in convs for t in c.turns)  # one expectation per turn


def test_writes_count_what_was_carried_out_missed_and_done_unasked(tmp_path):
    """The figures #26 is judged on: routine writes carried out without a person, and every write nobody asked
    for (a wrong order, a wrong amount, a second refund). A refused write was not carried out."""
    refund = {"operation": "refund", "order_id": "BW-1", "amount": 40}
    scs = load_scenarios(_write(tmp_path, [
        _conv("ok", {"executed": [refund]}, {"executed": []}),
        _conv("wrong", {"executed": [{"operation": "cancel_order", "order_id": "BW-2"}]}),
    ]))
    done = {**refund, "amount": 40.0, "status": "executed"}
    results = [
        _row("ok", _step(1, executed=[done]), _step(2, executed=[{**done, "status": "refused"}])),
        _row("wrong", _step(1, executed=[{"operation": "cancel_order", "order_id": "BW-3", "status": "executed"}])),
    ]
    w = score_summary(results, scs)["writes"]
    assert (w["expected"], w["carried_out"], w["share_carried_out"]) == (2, 1, 0.5)
    assert [(x["id"], x["write"]["order_id"]) for x in w["unexpected"]] == [("wrong", "BW-3")]
    assert [x["id"] for x in w["missed"]] == ["wrong"]
