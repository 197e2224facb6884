"""Ticketing: durable tickets and customer notifications, each behind an idempotency key.

The key is derived from the thread, the turn and the id of the customer message the turn answers, so a
resumed or replayed run finds the ticket it already created instead of creating another, and two messages
never share one ticket.
"""

from __future__ import annotations

from typing import Any

from agents import orders
from agents.services import Services
from knowledge.pii import redact

SUMMARY_CHARS = 280
READS = ("request", "triage", "research", "facts", "compliance", "customer", "ticket", "execution", "turn",
         "message_id", "part", "llm_calls", "started_at")


# What a person reads at the head of a ticket: "Refund of USD 40.00, order BW-1: …", never "[refund_request] refund
# (order_id=BW-1, amount=40.0): …".
ACTIONS = {"refund": "Refund", "cancel_order": "Cancellation", "account_change": "Account change",
           "close_account": "Account closure", "escalate": "For a person"}
DETAILS = {"order_id": "order {}", "field": "{}", "queue": None, "intent": None, "currency": None, "amount": None,
           "value": None}


def ticket_summary(state: dict) -> str:
    triage = state.get("triage") or {}
    action = (state.get("compliance") or {}).get("action") or {}
    args = action.get("args") or {}
    request = " ".join(state.get("request", "").split())
    if len(request) > SUMMARY_CHARS:
        request = request[: SUMMARY_CHARS - 1] + "…"
    name = action.get("name")
    head = ACTIONS.get(name, (name or "follow up").replace("_", " ").capitalize()) if name else "Follow-up"
    if (state.get("compliance") or {}).get("status") == "rejected":
        head = f"Follow-up: {head.lower()} rejected in review"
    if args.get("amount") is not None:
        head += f" of {args.get('currency') or 'USD'} {float(args['amount']):,.2f}"
    details = [DETAILS.get(k, f"{k.replace('_', ' ')} {{}}").format(v) for k, v in args.items()
               if DETAILS.get(k, "") is not None and v not in (None, "")]
    topic = (triage.get("intent") or "").replace("_", " ")
    return redact(f"{head}" + (f", {', '.join(details)}" if details else "") + (f" ({topic})" if topic else "")
                  + f": {request}")


def ticket_fields(state: dict, thread_id: str, svc: Services | None = None) -> dict[str, Any]:
    triage = state.get("triage") or {}
    decision = state.get("compliance") or {}
    research = state.get("research") or {}
    held = {} if decision else research.get("withheld") or {}  # an answer withheld for a person (answer_guard.py)
    if decision.get("status") == "rejected":  # refused in review; what brought it to review needs a person
        rejected = decision["action"]
        action = {"name": "follow_up", "args": {"intent": triage.get("intent"), "rejected": rejected["name"],
                                                **{k: v for k, v in rejected["args"].items() if k != "intent"}}}
        status = "open"
    elif decision:
        action = decision["action"]
        status = "approved" if action["name"] != "escalate" else "open"
        if status == "approved" and svc is not None and decision.get("status") == "approved" \
                and orders.binding(action, svc) and orders.verified_id(state):
            status = "open"  # carried out next (agents/ticketing/execute.py), which solves it or leaves it for a person
    else:  # a question research could not answer from the knowledge base, or whose answer was withheld
        args = {"intent": triage.get("intent"), "retrieved": research.get("retrieved", []),
                **({"withheld": {k: held[k] for k in ("reasons", "documents")}} if held else {})}
        action = {"name": "follow_up", "args": args}
        status = "open"
    calls = state.get("llm_calls") or []
    return {
        "thread_id": thread_id,
        "customer_id": (state.get("customer") or {}).get("id"),
        "intent": triage.get("intent"),
        "priority": decision.get("priority") or held.get("priority") or triage.get("urgency") or "normal",
        "queue": decision.get("queue") or "general",
        "status": status,
        "summary": ticket_summary(state),
        "action": action,
        "policy": {k: decision.get(k) for k in ("effect", "rule_id", "policy_version", "reason")} if decision else {},
        "reviewer": (decision.get("review") or {}).get("reviewer"),
        "asked_at": state.get("started_at"),  # the customer's message: response times count from it, not from
        # the ticket, which a review can open hours later
        "llm_calls": len(calls),
        "tokens": sum(c["input_tokens"] + c["output_tokens"] for c in calls),
    }


def open_ticket(state: dict, svc: Services, thread_id: str) -> dict:
    action_name = ((state.get("compliance") or {}).get("action") or {}).get("name", "follow_up")
    # The message is absent on a run started before message ids were kept (the old key, so it finds its ticket);
    # a later request in a message of several (`part` 1, 2, ...) gets its own ticket.
    message, part = state.get("message_id"), state.get("part")
    key = (f"{thread_id}:{state.get('turn', 1)}:" + (f"{message}:" if message else "")
           + (f"p{part}:" if part else "") + action_name)
    ticket, created = svc.tickets.create(key, **ticket_fields(state, thread_id, svc))
    ref = {"id": ticket["id"], "status": ticket["status"], "priority": ticket["priority"],
           "queue": ticket["queue"], "created": created}
    return {"ticket": ref, "outcome": "ticket_created"}


def notify(state: dict, svc: Services) -> dict:
    ticket = state["ticket"]
    body = f"Your request is recorded as ticket {ticket['id']} ({ticket['status']}, priority {ticket['priority']})."
    svc.tickets.notify(f"{ticket['id']}:opened", ticket["id"], "customer", body)
    return {}
