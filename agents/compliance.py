"""Compliance: turn triage into a proposed action, decide it by policy, and ask a human when required.

Review uses LangChain's HITL request shape so standard inbox UIs can render it, and resumes
with `{"decisions": [{"type": "approve"|"edit"|"reject", "reviewer": ..., ...}]}`.
"""

from __future__ import annotations

from typing import Any

from agents import slots
from agents.hitl import Approve, Edit, Reject, ReviewPayloadError, parse_resume, scrub
from agents.reviewers import ReviewerError, authorize, carried_amount, registry_for
from agents.services import Services

__all__ = ["READS", "ReviewPayloadError", "parse_resume", "check_reviewer", "prove_reviewer", "evaluate",
           "apply_decision"]

READS = ("triage", "customer", "compliance")  # data contract: decides on facts, never on free text


def decided_amount(decision: dict[str, Any], choice: Approve | Reject | Edit | None = None) -> float | None:
    """The amount a reviewer takes responsibility for: the largest this action has carried (the customer's
    request, every edit so far, and this choice's edit), so an amount can be lowered but never laundered."""
    edited = choice.edited_action.args.get("amount") if isinstance(choice, Edit) else None
    return carried_amount(decision.get("max_amount"), decision["action"]["args"].get("amount"), edited)


def check_reviewer(decision: dict[str, Any], choice: Approve | Reject | Edit, svc: Services | None = None) -> None:
    """Raise ReviewPayloadError (a ReviewerError) unless the registry qualifies this reviewer for the rule's
    role and the amount; the thread stays paused."""
    registry = registry_for(svc.settings if svc is not None else None)
    authorize(registry, choice.reviewer, decision.get("reviewer_role"), decided_amount(decision, choice))


def prove_reviewer(choice: Approve | Reject | Edit, raw: dict[str, Any], thread_id: str, review_id: str,
                   svc: Services) -> str:
    """How a decision sent to the graph proves who made it: "token" (the reviewer's secret, checked against the
    registry's hash) or "signature" (made by the API/CLI with the deployment key); ReviewerError otherwise."""
    if choice.token:
        registry_for(svc.settings).authenticate(choice.reviewer, choice.token)
        return "token"
    if choice.signature:
        if svc.verify_decision(thread_id, review_id, raw):
            return "signature"
        raise ReviewerError("the decision's signature does not match it (made for another review, thread or "
                            "decision?); nothing was decided")
    raise ReviewerError(f"reviewer {choice.reviewer!r} is not proven: a decision sent straight to the graph must carry "
                        "the reviewer's `token`, or come through the API or CLI (`python -m app review ...`), "
                        "which sign it")


def propose_action(state: dict) -> dict[str, Any]:
    """The action and its arguments: the ones the slots step settled (agents/turn.py), else triage's entities."""
    triage = state["triage"]
    ents = triage.get("entities") or {}
    args: dict[str, Any] = {"intent": triage["intent"]}
    if triage.get("args") is not None:
        args.update({k: v for k, v in triage["args"].items() if k != "intent"})
    elif ents.get("order_ids"):
        args["order_id"] = ents["order_ids"][0]
    if triage.get("args") is None and ents.get("amount") is not None:
        args["amount"] = ents["amount"]
        args["currency"] = ents.get("currency") or "USD"
    return {"name": triage.get("action") or "escalate", "args": args}


def facts(state: dict, svc: Services | None = None) -> dict[str, Any]:
    """What rules may look at: triage's signals, the customer record, and counts from the ticket store."""
    triage, customer = state["triage"], state.get("customer") or {}
    recent = svc.tickets.count_recent(customer.get("id"), "refund", days=30) if svc and customer.get("id") else 0
    return {
        "refunds_30d": recent,
        "intent": triage["intent"],
        "category": triage.get("category"),
        "risk": triage.get("risk", []),
        "identity_verified": bool(customer.get("verified")),
        "tier": customer.get("tier", "standard"),
        "account_age_days": customer.get("account_age_days"),
    }


KILL_SWITCH = {"effect": "review", "rule_id": "kill-switch", "reviewer_role": "supervisor", "queue": "general",
               "reason": "Automation is paused by an operator; every action needs a human.", "message": None,
               "priority": None}


INCOMPLETE = {"effect": "review", "rule_id": "missing-details", "reviewer_role": "supervisor", "message": None,
              "priority": None, "reason": "Required details are missing; a human completes them before anything runs."}


def unfilled(action: dict[str, Any], svc: Services) -> list[str]:
    """Required slots (app/config/taxonomy.yaml) the action has no value for; a stale `missing` entry the
    action now has a value for (a reviewer's edit) is dropped from its args."""
    args = action["args"]
    spec = svc.taxonomy.describe(args.get("intent") or "")
    if spec.get("action") != action.get("name"):
        return []  # an escalation of an incomplete request needs no slots: a person handles it
    gaps = slots.unfilled(spec, args)
    if args.get("missing"):
        args["missing"] = [m for m in args["missing"] if m in gaps]
        if not args["missing"]:
            del args["missing"]
    return gaps


def decide(action: dict[str, Any], state: dict, svc: Services) -> dict[str, Any]:
    """Policy decides; the operator's kill switch overrides every automatic approval, and so does a missing
    required detail (the customer could not give it, or a risk signal sent the request on without it)."""
    decision = svc.policy.evaluate(action, facts(state, svc))
    if svc.controls.paused and decision["effect"] == "allow":
        decision = {**KILL_SWITCH, "policy_version": decision["policy_version"]}
    elif decision["effect"] == "allow" and unfilled(action, svc):
        decision = {**INCOMPLETE, "queue": decision.get("queue") or "general",
                    "policy_version": decision["policy_version"]}
    status = {"allow": "approved", "review": "pending", "deny": "denied"}[decision["effect"]]
    return {**decision, "action": action, "status": status, "review": None}


def evaluate(state: dict, svc: Services) -> dict:
    """No side effects here: this node's output is recorded before the review pause."""
    decision = decide(propose_action(state), state, svc)
    update: dict[str, Any] = {"compliance": decision}
    if decision["status"] == "pending":
        update["outcome"] = "escalated_pending_review"
    return update


def review_request(decision: dict[str, Any], error: str | None = None, review_id: str | None = None,
                   previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The interrupt payload. Metadata carries `review_id` (what a signature and the claim refer to),
    `max_amount` (the amount the approval limit applies to) and `previous` (the edit that led here, if any)."""
    action = decision["action"]
    args = {k: v for k, v in action["args"].items() if k != "intent"}
    payload = {
        "action_requests": [
            {"name": action["name"], "args": args,
             "description": f"{decision['reason']} (rule {decision['rule_id']})"}
        ],
        "review_configs": [{"action_name": action["name"], "allowed_decisions": ["approve", "edit", "reject"]}],
        "metadata": {
            "rule_id": decision["rule_id"], "policy_version": decision["policy_version"],
            "reviewer_role": decision.get("reviewer_role"), "queue": decision.get("queue"),
            "intent": action["args"].get("intent"),
        },
    }
    meta = payload["metadata"]
    if (most := decided_amount(decision)) is not None:
        meta["max_amount"] = most
    if review_id:
        meta["review_id"] = review_id
    if previous:
        meta["previous"] = previous
    if error:
        meta["error"] = error
    return payload


def apply_decision(decision: dict, choice: Approve | Reject | Edit, state: dict, svc: Services,
                   meta: dict[str, Any] | None = None) -> dict:
    """The decision after a human's choice; an edit is checked against the policy again. `meta` (review id,
    how the reviewer was proven, via) is kept with the review. Free text and edited strings are redacted."""
    clean = scrub(choice.model_dump(exclude={"token", "signature"}))
    review = {"reviewer": choice.reviewer, "decision": choice.type, "note": clean.get("note"),
              "rule_id": decision["rule_id"], **(meta or {})}
    if choice.batch:
        review["batch"] = choice.batch
    carried = {"max_amount": decided_amount(decision, choice)}
    if isinstance(choice, Approve):
        return {**decision, **carried, "status": "approved", "review": review}
    if isinstance(choice, Reject):
        message = clean.get("message") or "After review, our team could not approve this request."
        return {**decision, **carried, "status": "rejected", "message": message, "review": review}
    args = clean["edited_action"]["args"]
    edited = {"name": choice.edited_action.name, "args": {**args, "intent": decision["action"]["args"].get("intent")}}
    recheck = decide(edited, state, svc)
    review["edited_args"] = args
    if recheck["status"] == "pending" and recheck["rule_id"] == decision["rule_id"]:
        recheck["status"] = "approved"  # the reviewer qualified for this rule approved the edited action
    return {**recheck, **carried, "review": review}
