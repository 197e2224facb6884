"""The supervisor's routing: a pure function of triage's result and the taxonomy, no LLM call.

A turn may hold several requests (agents/turn/understand.py makes them "parts"). Each part runs its own route; when it
is done its reply is kept and the next part starts, and the last one composes the turn's reply. Parts
that wait for details (slots) or only acknowledge something run nothing: their reply was written up front.
"""

from __future__ import annotations

from agents.compliance.approval import follows_up
from agents.services import Services
from agents.state import SupportState
from agents.supervisor.conversation import compose_reply

# When a turn's parts end differently, the outcome that tells the most about what happens next wins.
OUTCOME_ORDER = ("error", "with_person", "escalated_pending_review", "needs_info", "ticket_created", "refused",
                 "withdrawn", "answered")


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
    if not route or "compliance" in route or svc.reliability_gate(triage, route, turn) is None:
        return route
    return ["compliance", "ticketing"]


def part_step(state: SupportState, svc: Services) -> tuple[str, list[str]]:
    """(next specialist or 'respond' when the current part is done, its plan as it now stands)."""
    triage = state["triage"]
    plan = list(state.get("plan") or gated_plan(triage, plan_for(triage, svc), svc, state.get("turn")))
    decision = state.get("compliance") or {}
    done = (state.get("route") or [])[state.get("mark") or 0:]  # this part's steps
    if decision.get("status") in ("denied", "rejected", "withdrawn"):  # withdrawn: by the customer, during review
        # Refused, but a legal threat or a fraud signal still needs a person: a ticket in the review's queue.
        return ("ticketing" if follows_up(decision, svc) and "ticketing" not in done else "respond"), plan
    research = state.get("research") or {}
    if triage.get("kind") == "question" and research and not research.get("grounded") and "ticketing" not in plan:
        plan.append("ticketing")  # unanswered or unsupported: a human follows up
    if svc.controls.paused and "ticketing" in plan and "compliance" not in plan:
        plan.insert(plan.index("ticketing"), "compliance")  # no side effect without a human while paused
    return next((s for s in plan if s not in done), "respond"), plan


def _simple(parts: list[dict]) -> bool:
    """One request that runs: the respond node composes its reply as it always has."""
    return len(parts) == 1 and not parts[0].get("reply")


def next_step(state: SupportState, svc: Services) -> tuple[str, dict]:
    """(next specialist or 'respond', the state update that goes with it).

    Finishing a part stores its reply and switches request/triage to the next part, clearing what the
    specialists left for the previous one.
    """
    parts = [dict(p) for p in state.get("parts") or []]
    if not parts:  # a graph run without the slots step (an older checkpoint): one request, as before
        step, plan = part_step(state, svc)
        return step, {"plan": plan}
    view, update = dict(state), {}
    while view.get("part") is not None:
        step, plan = part_step(view, svc)
        if step != "respond":
            return step, {**update, "plan": plan}
        if _simple(parts):
            return "respond", {**update, "plan": plan, **_remember(parts, view)}
        index = view["part"]
        text, outcome = compose_reply(view)
        parts[index] = {**parts[index], "reply": {"text": text, "outcome": outcome}, "ticket": view.get("ticket"),
                        "citations": (view.get("research") or {}).get("citations") or []}
        following = index + 1 if index + 1 < len(parts) and not parts[index + 1].get("reply") else None
        change: dict = {"parts": parts, "part": following}
        if following is not None:
            nxt = parts[following]
            change.update(request=nxt["request"], triage=nxt["triage"], research=None, compliance=None, ticket=None,
                          facts=None, execution=None,
                          plan=[], outcome=None, mark=len(view.get("route") or []))
        update.update(change)
        view.update(change)
    return "respond", {**update, **compose_turn(parts, view), **_remember(parts, view)}


def _remember(parts: list[dict], state: SupportState) -> dict:
    """The last action this turn ran, so a follow-up question ("how long until I see the money?") is read
    in its context next turn."""
    ran = [p for p in parts if not p.get("reply") or p["reply"].get("outcome") != "needs_info"]
    actions = [p["triage"]["intent"] for p in ran if p["triage"].get("kind") == "action"]
    return {"recent": {"intent": actions[-1], "turn": state.get("turn", 0)}} if actions else {}


def compose_turn(parts: list[dict], state: SupportState) -> dict:
    """The reply to the whole message, in the customer's order, and the outcome that matters most."""
    if _simple(parts):
        return {}
    replies = [p["reply"] for p in sorted(parts, key=lambda p: p["index"]) if p.get("reply")]
    outcome = min((r["outcome"] for r in replies), key=lambda o: OUTCOME_ORDER.index(o) if o in OUTCOME_ORDER else 99)
    # Said once: two requests refused for one reason (two orders, no verified identity) get the reason once.
    update = {"answer": "\n\n".join(dict.fromkeys(r["text"] for r in replies)), "outcome": outcome}
    cited = {c["doc_id"]: c for p in sorted(parts, key=lambda p: p["index"]) for c in p.get("citations") or []}
    if cited:  # the turn cites what every part's answer used, not only the last part's
        update["research"] = {**(state.get("research") or {}), "citations": list(cited.values())}
    if not state.get("ticket"):  # the last part was a question: the turn's ticket is an earlier part's
        ticket = next((p["ticket"] for p in reversed(parts) if p.get("ticket")), None)
        if ticket:
            update["ticket"] = ticket
    return update
