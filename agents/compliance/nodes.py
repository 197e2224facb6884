"""Compliance: turn triage into a proposed action, decide it by policy, and ask a human when required.

Review uses LangChain's HITL request shape so standard inbox UIs can render it, and resumes
with `{"decisions": [{"type": "approve"|"edit"|"reject", "reviewer": ..., ...}]}`.
"""

from __future__ import annotations

import time
from typing import Any

from agents import orders
from agents.compliance.approval import decided_amount, finite
from agents.compliance.hitl import Approve, Edit, Reject, ReviewPayloadError, parse_resume, scrub
from agents.services import Services
from agents.state import SpecialistState
from agents.turn import slots

__all__ = ["READS", "ReviewPayloadError", "parse_resume", "gather_facts",
           "evaluate", "recheck", "apply_decision"]

READS = ("triage", "customer", "facts", "compliance", "turn", "message_id", "part")  # facts, never free text
TOTAL_DAYS = 30  # a customer's earlier refunds count towards the total limit for this long


def propose_action(state: SpecialistState) -> dict[str, Any]:
    """The action and its arguments: the ones the slots step settled (agents/turn/understand.py), else
    triage's entities."""
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


def facts(state: SpecialistState, svc: Services | None = None, action: dict[str, Any] | None = None,
          thread_id: str | None = None) -> dict[str, Any]:
    """What rules may look at: triage's signals, the customer record, counts and totals from the ticket store."""
    triage, customer = state["triage"], state.get("customer") or {}
    recent = svc.tickets.count_recent(customer.get("id"), "refund", days=30) if svc and customer.get("id") else 0
    args = triage.get("args")
    unsure = bool((triage.get("entities") or {}).get("amount_unsure")) if args is None else bool(
        args.get("amount_unsure"))  # slots (agents/turn/understand.py) fill an unsure amount once confirmed
    return {
        "refunds_30d": recent,
        "amount_unsure": unsure,
        "prior_total": prior_total(action, state, svc, thread_id) if action and svc else 0.0,
        "intent": triage["intent"],
        "category": triage.get("category"),
        "risk": triage.get("risk", []),
        "identity_verified": bool(customer.get("verified")),
        "tier": customer.get("tier", "standard"),
        "account_age_days": customer.get("account_age_days"),
        **orders.policy_facts(state.get("facts"), (action or {}).get("args") or {}),
    }


def prior_total(action: dict[str, Any], state: SpecialistState, svc: Services, thread_id: str | None) -> float:
    """The largest total, in the policy currency, of earlier tickets of this action for the same order, the same
    thread or (over TOTAL_DAYS) the same customer: five "$400" refunds in one thread add up to $2,000 however each
    is worded. This request's own ticket (a replayed run) is left out; amounts without a rate are not added."""
    args = action.get("args") or {}
    lookup = getattr(svc.tickets, "action_amounts", None)
    if args.get("amount") is None or lookup is None:
        return 0.0
    customer, order = (state.get("customer") or {}).get("id"), args.get("order_id")
    rows = lookup(action["name"], thread_id=thread_id, customer_id=customer,
                  order_id=str(order) if order else None, since=time.time() - TOTAL_DAYS * 86400)
    # the key agents/ticketing/nodes.py gives this very request's ticket
    part, message = state.get("part"), state.get("message_id")
    own = (f"{thread_id}:{state.get('turn', 1)}:" + (f"{message}:" if message else "") + (f"p{part}:" if part else "")
           + action["name"])
    totals = {"thread": 0.0, "customer": 0.0, "order": 0.0}
    for row in rows:
        value = svc.policy.to_base(row["args"].get("amount"), row["args"].get("currency"))
        if row["key"] == own or value is None:
            continue
        for scope, same in (("thread", row["thread_id"] == thread_id), ("customer", customer and row["customer_id"]
                                                                        == customer),
                            ("order", order and str(row["args"].get("order_id")) == str(order))):
            totals[scope] += value if same else 0.0
    return max(totals.values())


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


def decide(action: dict[str, Any], state: SpecialistState, svc: Services,
           thread_id: str | None = None) -> dict[str, Any]:
    """Policy decides; the operator's kill switch overrides every automatic approval, and so does a missing
    required detail (the customer could not give it, or a risk signal sent the request on without it)."""
    decision = svc.policy.evaluate(action, facts(state, svc, action, thread_id))
    if svc.controls.paused and decision["effect"] == "allow":
        decision = {**KILL_SWITCH, "policy_version": decision["policy_version"]}
    elif decision["effect"] == "allow" and unfilled(action, svc):
        decision = {**INCOMPLETE, "queue": decision.get("queue") or "general",
                    "policy_version": decision["policy_version"]}
    status = {"allow": "approved", "review": "pending", "deny": "denied"}[decision["effect"]]
    if decision.get("message"):  # a rule's reply may name the order's facts: "{refundable}", "{order_id}"
        decision["message"] = _fill(decision["message"], orders.message_values(state.get("facts"),
                                                                                    action["args"]))
    bound = {"args": {k: v for k, v in action["args"].items() if k != "intent"},
             "facts": orders.bound_facts(state.get("facts")), "policy_version": decision["policy_version"]}
    return {**decision, "action": action, "status": status, "review": None, "bound": bound}


def _fill(message: str, values: dict[str, str]) -> str:
    class _Keep(dict):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    try:
        return message.format_map(_Keep(values))
    except (ValueError, IndexError):  # a stray brace in a hand-written message: shown as written
        return message


FACTS_CHANGED = {"effect": "review", "rule_id": "facts-changed", "message": None, "priority": "high",
                 "reason": "The order changed in the system of record after this was approved ({what}); a person "
                           "decides again on the facts as they are now."}


def gather_facts(state: SpecialistState, svc: Services, thread_id: str | None = None) -> dict:
    """The order's facts from the system of record, read before policy (agents/orders.py); a turn running again
    decides on the facts its own write was decided on."""
    return {"facts": orders.look_up(state, svc, propose_action(state), thread_id, replay=True)}


def recheck(state: SpecialistState, svc: Services, thread_id: str | None = None) -> dict:
    """After a review: read the order again. Changed facts (or policy) send the approval back to review; facts
    the policy now refuses on (it was refunded meanwhile) refuse it."""
    decision = state.get("compliance") or {}
    if decision.get("status") != "approved" or not decision.get("review"):
        return {}
    action = decision["action"]
    fresh = orders.look_up(state, svc, action)
    diffs = orders.changed(decision, fresh, svc.policy.version_id)
    if not diffs:
        return {}
    view = {**state, "facts": fresh}
    again = decide(action, view, svc, thread_id)
    if again["status"] == "denied":
        return {"facts": fresh, "compliance": {**again, "review": decision.get("review")}}
    reason = FACTS_CHANGED["reason"].format(what=", ".join(diffs))
    pending = {**again, **FACTS_CHANGED, "reason": reason, "status": "pending", "review": None,
               "reviewer_role": decision.get("reviewer_role") or again.get("reviewer_role") or "supervisor",
               "queue": decision.get("queue") or again.get("queue") or "general",
               "previous_review": decision.get("review")}
    if (most := finite(decided_amount(pending, svc=svc))) is not None:
        pending["max_amount"] = most
    return {"facts": fresh, "compliance": pending, "outcome": "escalated_pending_review"}


def evaluate(state: SpecialistState, svc: Services, thread_id: str | None = None) -> dict:
    """No side effects here: this node's output is recorded before the review pause. `max_amount` starts as the
    request's amount in the policy currency (finite only: an unrated one is judged as such by check_reviewer)."""
    decision = decide(propose_action(state), state, svc, thread_id)
    if (most := finite(decided_amount(decision, svc=svc))) is not None:
        decision["max_amount"] = most
    update: dict[str, Any] = {"compliance": decision}
    if decision["status"] == "pending":
        update["outcome"] = "escalated_pending_review"
    return update


def review_request(decision: dict[str, Any], error: str | None = None, review_id: str | None = None,
                   previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """The interrupt payload. Metadata carries `review_id` (what a signature and the claim refer to),
    `max_amount` (the amount the approval limit applies to), `previous` (the edit that led here, if any) and
    `order` (the order's bound facts, never personal data: what the reviewer decides against)."""
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
    most = decision["max_amount"] if "max_amount" in decision else decided_amount(decision)  # before conversion
    if most is not None:
        meta["max_amount"] = most
    if review_id:
        meta["review_id"] = review_id
    if previous:
        meta["previous"] = previous
    if (approved := decision.get("previous_review")) and approved.get("review_id"):
        meta["rechecks"] = approved["review_id"]  # the approval this review checks again (facts changed)
    if error:
        meta["error"] = error
    if order := (decision.get("bound") or {}).get("facts"):  # the order as looked up: the reviewer reads it beside
        meta["order"] = {"id": action["args"].get("order_id"), **{k: v for k, v in order.items() if k != "lookup"}}
    return payload


def apply_decision(decision: dict, choice: Approve | Reject | Edit, state: SpecialistState, svc: Services,
                   meta: dict[str, Any] | None = None) -> dict:
    """The decision after a human's choice; an edit is checked against the policy again. `meta` (review id,
    how the reviewer was proven, via) is kept with the review. Free text and edited strings are redacted."""
    clean = scrub(choice.model_dump(exclude={"token", "signature"}))
    review = {"reviewer": choice.reviewer, "decision": choice.type, "note": clean.get("note"),
              "rule_id": decision["rule_id"], **(meta or {})}
    if choice.batch:
        review["batch"] = choice.batch
    most = finite(decided_amount(decision, choice, svc))
    carried = {"max_amount": most} if most is not None else {}
    if isinstance(choice, Approve):
        return {**decision, **carried, "status": "approved", "review": review}
    if isinstance(choice, Reject):
        message = clean.get("message") or "After review, our team could not approve this request."
        return {**decision, **carried, "status": "rejected", "message": message, "review": review}
    args = clean["edited_action"]["args"]
    edited = {"name": choice.edited_action.name, "args": {**args, "intent": decision["action"]["args"].get("intent")}}
    recheck = decide(edited, state, svc)
    review["edited_args"] = args
    review["asked_amount"] = decision["action"]["args"].get("amount")  # the customer hears what changed
    review["message"] = clean.get("message")
    if recheck["status"] == "pending" and recheck["rule_id"] == decision["rule_id"]:
        recheck["status"] = "approved"  # the reviewer qualified for this rule approved the edited action
    return {**recheck, **carried, "review": review}
