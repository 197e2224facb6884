"""The supervisor's routing: a pure function of triage's result and the taxonomy, no LLM call."""

from __future__ import annotations

from agents.services import Services


def plan_for(triage: dict, svc: Services) -> list[str]:
    """The taxonomy's route for the kind triage settled on.

    Triage may turn a question into an escalation (it mentions a lawyer or fraud); that case then takes the
    escalation route, so a person follows up on a ticket instead of the customer getting only an automatic answer.
    """
    spec = svc.taxonomy.describe(triage["intent"])
    kind = triage.get("kind") or spec["kind"]
    return list(svc.taxonomy.routes[kind] if kind != spec["kind"] and kind in svc.taxonomy.routes else spec["route"])


def gated_plan(triage: dict, route: list[str], svc: Services, turn: int | None = None) -> list[str]:
    """Reliability hook: an intent an agent has recently handled badly is not answered automatically.

    A question goes to compliance and ticketing (a person follows up) instead of an automatic answer;
    actions and escalations already pass compliance. The reason is written to the audit trail.
    """
    if "compliance" in route or svc.reliability_gate(triage, route, turn) is None:
        return route
    return ["compliance", "ticketing"]


def next_step(state: dict, svc: Services) -> tuple[str, list[str]]:
    """(next specialist or 'respond', the plan as it now stands)."""
    triage = state["triage"]
    plan = list(state.get("plan") or gated_plan(triage, plan_for(triage, svc), svc, state.get("turn")))
    decision = state.get("compliance") or {}
    if decision.get("status") in ("denied", "rejected"):
        return "respond", plan
    research = state.get("research") or {}
    if triage.get("kind") == "question" and research and not research.get("grounded") and "ticketing" not in plan:
        plan.append("ticketing")  # unanswered or unsupported: a human follows up
    if svc.controls.paused and "ticketing" in plan and "compliance" not in plan:
        plan.insert(plan.index("ticketing"), "compliance")  # no side effect without a human while paused
    done = state.get("route") or []
    return next((s for s in plan if s not in done), "respond"), plan
