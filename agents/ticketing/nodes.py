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
         "message_id", "part", "llm_calls")


def ticket_summary(state: dict) -> str:
    triage = state.get("triage") or {}
    action = (state.get("compliance") or {}).get("action") or {}
    args = ", ".join(f"{k}={v}" for k, v in action.get("args", {}).items() if k != "intent")
    request = " ".join(state.get("request", "").split())
    if len(request) > SUMMARY_CHARS:
        request = request[: SUMMARY_CHARS - 1] + "…"
    head = f"[{triage.get('intent', 'unknown')}] {action.get('name', 'follow_up')}" + (f" ({args})" if args else "")
    return redact(f"{head}: {request}")


def ticket_fields(state: dict, thread_id: str, svc: Services | None = None) -> dict[str, Any]:
    triage = state.get("triage") or {}
    decision = state.get("compliance") or {}
    research = state.get("research") or {}
    held = {} if decision else research.get("withheld") or {}  # an answer withheld for a person (answer_guard.py)
    if decision:
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
