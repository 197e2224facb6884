"""agents/supervisor/planner.py on small hand-made states: which specialist runs next, and what a turn of several
requests replies. The services are a stand-in with only what the planner asks for (taxonomy, gate, controls)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from agents.supervisor.planner import OUTCOME_ORDER, compose_turn, gated_plan, next_step, part_step, plan_for
from agents.triage.taxonomy import Taxonomy

TAXONOMY = Taxonomy.model_validate({
    "intents": {
        "password_reset": {"category": "account", "kind": "question"},
        "refund_request": {"category": "billing", "kind": "action", "action": "refund", "slots": ["order_id"]},
        "legal_threat": {"category": "legal", "kind": "escalation", "action": "escalate"},
        "greeting": {"category": "conversation", "kind": "conversation"},
    },
    "routes": {"question": ["research"], "action": ["compliance", "ticketing"],
               "escalation": ["compliance", "ticketing"], "conversation": []},
})

QUESTION = {"intent": "password_reset", "kind": "question"}
REFUND = {"intent": "refund_request", "kind": "action"}
REVIEWERS = Path(__file__).resolve().parents[3] / "app" / "config" / "reviewers.yaml"  # its queues follow up or not
GROUNDED = {"found": True, "grounded": True, "answer": "Use Forgot password.",
            "citations": [{"doc_id": "password-reset.md", "title": "Reset your password", "snippet": "…"}]}


def fake_services(gate=None, paused=False):
    """`gate(triage, route, turn)` says why an intent may not be answered automatically (None: it may)."""
    asked = []

    def reliability_gate(triage, route, turn):
        asked.append((triage["intent"], list(route), turn))
        return gate(triage, route, turn) if gate else None

    return SimpleNamespace(taxonomy=TAXONOMY, reliability_gate=reliability_gate,
                           controls=SimpleNamespace(paused=paused), asked=asked,
                           settings=SimpleNamespace(reviewers_file=REVIEWERS))


# ---- plan_for ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("triage, route", [
    (QUESTION, ["research"]),
    (REFUND, ["compliance", "ticketing"]),
    ({"intent": "greeting", "kind": "conversation"}, []),
    ({"intent": "password_reset"}, ["research"]),  # no kind: the intent's own
    ({"intent": "something_new", "kind": "question"}, ["research"]),  # unknown intent: a general question
])
def test_plan_for_takes_the_route_of_the_intents_kind(triage, route):
    assert plan_for(triage, fake_services()) == route


def test_a_question_triage_turned_into_an_escalation_takes_the_escalation_route():
    assert plan_for({"intent": "password_reset", "kind": "escalation"}, fake_services()) == ["compliance", "ticketing"]


def test_a_kind_without_a_route_keeps_the_intents_route():
    assert plan_for({"intent": "password_reset", "kind": "mystery"}, fake_services()) == ["research"]


def test_plan_for_returns_a_copy():
    plan = plan_for(REFUND, fake_services())
    plan.append("extra")
    assert TAXONOMY.routes["action"] == ["compliance", "ticketing"]


# ---- gated_plan ----------------------------------------------------------------------------------------------
def test_an_open_gate_leaves_the_route_and_is_asked_with_the_turn():
    svc = fake_services()
    assert gated_plan(QUESTION, ["research"], svc, turn=3) == ["research"]
    assert svc.asked == [("password_reset", ["research"], 3)]


def test_a_closed_gate_sends_a_question_to_a_person():
    svc = fake_services(gate=lambda *_: {"reason": "grounding failures"})
    assert gated_plan(QUESTION, ["research"], svc, turn=1) == ["compliance", "ticketing"]


@pytest.mark.parametrize("route", [[], ["compliance", "ticketing"]])
def test_routes_that_already_pass_compliance_or_run_nothing_are_not_gated(route):
    svc = fake_services(gate=lambda *_: {"reason": "bad"})
    assert gated_plan(REFUND, route, svc) == route
    assert svc.asked == []  # the gate is not even consulted


# ---- part_step: one request ----------------------------------------------------------------------------------
def test_a_fresh_question_goes_to_research_then_to_respond():
    svc = fake_services()
    assert part_step({"triage": QUESTION}, svc) == ("research", ["research"])
    assert part_step({"triage": QUESTION, "plan": ["research"], "route": ["research"], "research": GROUNDED},
                     svc) == ("respond", ["research"])


def test_an_unsupported_answer_gets_a_follow_up_ticket():
    state = {"triage": QUESTION, "plan": ["research"], "route": ["research"],
             "research": {**GROUNDED, "grounded": False}}
    assert part_step(state, fake_services()) == ("ticketing", ["research", "ticketing"])


@pytest.mark.parametrize("status", ["denied", "rejected", "withdrawn"])
def test_a_refused_or_withdrawn_action_goes_straight_to_respond(status):
    state = {"triage": REFUND, "plan": ["compliance", "ticketing"], "route": ["compliance"],
             "compliance": {"status": status}}
    assert part_step(state, fake_services()) == ("respond", ["compliance", "ticketing"])


@pytest.mark.parametrize("queue, step", [("legal", "ticketing"), ("fraud", "ticketing"), ("billing", "respond")])
def test_a_rejection_in_a_queue_that_follows_up_still_opens_its_ticket(queue, step):
    state = {"triage": REFUND, "plan": ["compliance", "ticketing"], "route": ["compliance"],
             "compliance": {"status": "rejected", "queue": queue}}
    assert part_step(state, fake_services())[0] == step
    state["route"].append("ticketing")  # once opened, the part is done
    assert part_step(state, fake_services())[0] == "respond"


def test_an_approved_action_runs_ticketing_next():
    state = {"triage": REFUND, "plan": ["compliance", "ticketing"], "route": ["compliance"],
             "compliance": {"status": "approved"}}
    assert part_step(state, fake_services())[0] == "ticketing"


def test_while_paused_nothing_reaches_ticketing_without_compliance():
    state = {"triage": QUESTION, "plan": ["research"], "route": ["research"],
             "research": {**GROUNDED, "grounded": False}}
    assert part_step(state, fake_services(paused=True)) == ("compliance", ["research", "compliance", "ticketing"])


def test_only_the_running_parts_steps_count_as_done():
    """`mark` is where this part's steps start: research ran for the previous part, not for this one."""
    state = {"triage": QUESTION, "route": ["research"], "mark": 1}
    assert part_step(state, fake_services())[0] == "research"


# ---- next_step: a turn without parts, with one part, with several ---------------------------------------------
def test_without_parts_next_step_is_part_step():
    step, update = next_step({"triage": REFUND}, fake_services())
    assert (step, update) == ("compliance", {"plan": ["compliance", "ticketing"]})


def test_a_single_part_is_answered_by_respond_and_remembers_its_action():
    state = {"triage": REFUND, "request": "refund BW-1", "turn": 4, "part": 0, "plan": ["compliance", "ticketing"],
             "route": ["compliance", "ticketing"], "compliance": {"status": "approved"},
             "parts": [{"index": 0, "request": "refund BW-1", "triage": REFUND}]}
    step, update = next_step(state, fake_services())
    assert step == "respond"
    assert update == {"plan": ["compliance", "ticketing"], "recent": {"intent": "refund_request", "turn": 4}}


def two_parts_after_the_question() -> dict:
    parts = [{"index": 0, "request": "how do I reset my password?", "triage": QUESTION},
             {"index": 1, "request": "refund BW-1", "triage": REFUND}]
    return {"triage": QUESTION, "request": parts[0]["request"], "turn": 2, "part": 0, "parts": parts,
            "plan": ["research"], "route": ["intake", "research"], "mark": 1, "research": GROUNDED}


def test_a_finished_part_keeps_its_reply_and_the_next_part_starts_clean():
    step, update = next_step(two_parts_after_the_question(), fake_services())
    assert step == "compliance"
    first, second = update["parts"]
    assert first["reply"]["outcome"] == "answered" and "Use Forgot password." in first["reply"]["text"]
    assert first["citations"] == GROUNDED["citations"] and "reply" not in second
    assert update["part"] == 1 and update["request"] == "refund BW-1" and update["triage"] == REFUND
    assert update["research"] is None and update["compliance"] is None and update["ticket"] is None
    assert update["mark"] == 2  # the next part's steps start after the question's
    assert update["plan"] == ["compliance", "ticketing"]


def test_the_last_part_composes_the_turn_in_the_customers_order():
    state = two_parts_after_the_question()
    _, update = next_step(state, fake_services())
    state.update(update)
    state.update(route=[*state["route"], "compliance", "ticketing"], compliance={
        "status": "approved", "action": {"name": "refund", "args": {"order_id": "BW-1", "amount": 20.0}}},
        ticket={"id": "T-9", "created": True})
    step, final = next_step(state, fake_services())
    assert step == "respond" and final["part"] is None
    answer = final["answer"]
    assert answer.index("Use Forgot password.") < answer.index("Your refund of USD 20.00 for order BW-1")
    assert "ticket T-9" in answer
    assert final["outcome"] == "ticket_created"  # tells more about what happens next than "answered"
    assert final["research"]["citations"] == GROUNDED["citations"]  # the question's sources are kept
    assert final["recent"] == {"intent": "refund_request", "turn": 2}


def test_a_part_that_already_has_its_reply_is_not_run():
    state = two_parts_after_the_question()
    state["parts"][1]["reply"] = {"text": "Which order?", "outcome": "needs_info"}
    step, update = next_step(state, fake_services())
    assert step == "respond" and update["part"] is None
    assert update["outcome"] == "needs_info"  # ranks above "answered"
    assert update["answer"].endswith("Which order?")
    assert "recent" not in update  # an action still waiting for details has not run


# ---- compose_turn ------------------------------------------------------------------------------------------
def test_compose_turn_keeps_an_earlier_parts_ticket_and_leaves_a_single_request_alone():
    parts = [{"index": 1, "reply": {"text": "B", "outcome": "answered"}},
             {"index": 0, "reply": {"text": "A", "outcome": "ticket_created"}, "ticket": {"id": "T-1"}}]
    update = compose_turn(parts, {})
    assert update == {"answer": "A\n\nB", "outcome": "ticket_created", "ticket": {"id": "T-1"}}
    assert compose_turn([{"index": 0, "triage": QUESTION}], {}) == {}


def test_outcome_order_covers_every_outcome():
    from typing import get_args

    from agents.state import Outcome

    assert set(OUTCOME_ORDER) == set(get_args(Outcome))


def test_the_same_reply_for_two_requests_is_said_once():
    """Two orders refused for one reason (no verified identity) read the same sign-in sentence twice."""
    why = {"text": "Please sign in first.", "outcome": "refused"}
    parts = [{"index": 0, "reply": why}, {"index": 1, "reply": dict(why)}]
    assert compose_turn(parts, {})["answer"] == "Please sign in first."
