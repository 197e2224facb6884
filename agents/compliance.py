"""Compliance: turn triage into a proposed action, decide it by policy, and ask a human when required.

Review uses LangChain's HITL request shape so standard inbox UIs can render it, and resumes
with `{"decisions": [{"type": "approve"|"edit"|"reject", "reviewer": ..., ...}]}`.
"""

from __future__ import annotations

from typing import Any

from agents.hitl import Approve, Edit, Reject, ReviewPayloadError, parse_resume
from agents.reviewers import authorize, registry_for
from agents.services import Services

__all__ = ["READS", "ReviewPayloadError", "parse_resume", "check_reviewer", "evaluate", "apply_decision"]

READS = ("triage", "customer", "compliance")  # data contract: decides on facts, never on free text


def decided_amount(decision: dict[str, Any], choice: Approve | Reject | Edit) -> float | None:
    """The amount a reviewer takes responsibility for: the edited one for an edit."""
    if isinstance(choice, Edit):
        return choice.edited_action.args.get("amount")
    return decision["action"]["args"].get("amount")


def check_reviewer(decision: dict[str, Any], choice: Approve | Reject | Edit, svc: Services | None = None) -> None:
    """Raise ReviewPayloadError (a ReviewerError) unless the registry qualifies this reviewer for the rule's
    role and the amount; the thread stays paused."""
    registry = registry_for(svc.settings if svc is not None else None)
    authorize(registry, choice.reviewer, decision.get("reviewer_role"), decided_amount(decision, choice))


def propose_action(state: dict) -> dict[str, Any]:
    triage = state["triage"]
    ents = triage.get("entities") or {}
    args: dict[str, Any] = {"intent": triage["intent"]}
    if ents.get("order_ids"):
        args["order_id"] = ents["order_ids"][0]
    if ents.get("amount") is not None:
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


def decide(action: dict[str, Any], state: dict, svc: Services) -> dict[str, Any]:
    """Policy decides; the operator's kill switch overrides every automatic approval."""
    decision = svc.policy.evaluate(action, facts(state, svc))
    if svc.controls.paused and decision["effect"] == "allow":
        decision = {**KILL_SWITCH, "policy_version": decision["policy_version"]}
    status = {"allow": "approved", "review": "pending", "deny": "denied"}[decision["effect"]]
    return {**decision, "action": action, "status": status, "review": None}


def evaluate(state: dict, svc: Services) -> dict:
    """No side effects here: this node's output is recorded before the review pause."""
    decision = decide(propose_action(state), state, svc)
    update: dict[str, Any] = {"compliance": decision}
    if decision["status"] == "pending":
        update["outcome"] = "escalated_pending_review"
    return update


def review_request(decision: dict[str, Any], error: str | None = None) -> dict[str, Any]:
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
    if error:
        payload["metadata"]["error"] = error
    return payload


def apply_decision(decision: dict, choice: Approve | Reject | Edit, state: dict, svc: Services) -> dict:
    """The decision after a human's choice; an edit is checked against the policy again."""
    review = {"reviewer": choice.reviewer, "decision": choice.type, "note": choice.note, "rule_id": decision["rule_id"]}
    if choice.batch:
        review["batch"] = choice.batch
    if isinstance(choice, Approve):
        return {**decision, "status": "approved", "review": review}
    if isinstance(choice, Reject):
        message = choice.message or "After review, our team could not approve this request."
        return {**decision, "status": "rejected", "message": message, "review": review}
    edited = {"name": choice.edited_action.name,
              "args": {**choice.edited_action.args, "intent": decision["action"]["args"].get("intent")}}
    recheck = decide(edited, state, svc)
    review["edited_args"] = choice.edited_action.args
    if recheck["status"] == "pending" and recheck["rule_id"] == decision["rule_id"]:
        recheck["status"] = "approved"  # the reviewer qualified for this rule approved the edited action
    return {**recheck, "review": review}
