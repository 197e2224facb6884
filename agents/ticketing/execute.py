"""Carry out an approved action in the company's system, exactly once, in a node that never pauses.

The idempotency key is derived from the thread, the action and its arguments, so a retried message, a replayed
run or a reconciler all carry the same key, and the system answers them with its first result. The intent is
recorded (`executions.plan`) before the call and the outcome after it: a crash anywhere leaves a row the next run
or `python -m app actions reconcile` settles with the same key.

Outcomes: executed (the ticket is solved with the system's reference), refused by the system (its reason reaches the
customer in plain words), failed after the connector's retries (the ticket stays open for a person, carrying the
error; the customer hears it is in progress, never that it is done), dry_run (the exact call is recorded and a
person completes it).
"""

from __future__ import annotations

from typing import Any

from agents import failpoints, orders
from agents.services import Services


def _reference(result: dict[str, Any]) -> str | None:
    for part in result.values():
        if isinstance(part, dict) and part.get("reference"):
            return str(part["reference"])
    return None


def read_outcome(result: dict[str, Any], mode: str) -> tuple[str, dict[str, Any]]:
    if mode == "dry_run":
        return "dry_run", {}
    if result.get("unavailable"):
        return "failed", {"error": (result.get("error") or {}).get("message") or "the system did not answer"}
    if not result.get("ok"):
        error = result.get("error") or {}
        return "refused", {"message": error.get("message") or "The system refused it.", "code": error.get("code")}
    return "executed", {"reference": _reference(result), "replayed": bool(result.get("replayed"))}


def _already(row: dict, operation: str, key: str, ticket: dict, svc: Services) -> dict[str, Any]:
    """The same request sent again ("did you get my message? refund $40 for …", a resent mail): the system was
    called once, for the first message, and the customer is told that it was already done, not that it was done
    now. This message's ticket is a record of the answer, solved with the first call's reference."""
    status, detail = read_outcome(row["result"], row["mode"])
    execution = {"status": status, "operation": operation, "key": key, "result": row["result"], **detail,
                 "already": True, "reference": row.get("reference") or detail.get("reference")}
    if ticket.get("id"):
        svc.tickets.settle(ticket["id"], execution, None)
    return execution


def execute(state: dict, svc: Services, thread_id: str) -> dict:
    decision = state.get("compliance") or {}
    action = decision.get("action") or {}
    bound = orders.binding(action, svc) if decision.get("status") == "approved" else None
    customer_id = orders.verified_id(state)
    if bound is None or customer_id is None:
        return {}
    ticket = state.get("ticket") or {}
    operation, mode = bound["operation"], bound["mode"]
    args = orders.call_args(action, svc, thread_id)
    key = orders.idempotency_key(thread_id, action["name"], args)
    try:
        call = svc.systems.plan(operation, args, customer_id, key)
    except ValueError as exc:  # arguments the operation does not accept: a person completes it
        call, result = {"operation": operation, "arguments": {}}, {"unavailable": True, "error": {"message": str(exc)}}
    else:
        result = None
    row = svc.executions.plan(key, thread_id=thread_id, ticket_id=ticket.get("id"), customer_id=customer_id,
                              action=action["name"], operation=operation, mode=mode, call=call,
                              facts=state.get("facts"))
    if row["status"] in ("executed", "refused", "dry_run") and row.get("result") is not None:
        if row.get("ticket_id") not in (None, ticket.get("id")):  # an earlier message asked for exactly this
            return {"execution": _already(row, operation, key, ticket, svc)}
        result = row["result"]  # settled by an earlier run of this turn (or the reconciler): reuse, never call again
    elif result is None and mode == "live":
        svc.executions.attempt(key)
        failpoints.hit("execute.before_call")
        result = svc.systems.write(operation, args, customer_id, key)
        failpoints.hit("execute.after_call")
    status, detail = read_outcome(result or {}, mode)
    row = svc.executions.finish(key, status, result=result or {"planned": call}, error=detail.get("error"),
                                reference=detail.get("reference"))
    execution = {"status": status, "operation": operation, "key": key, "result": row.get("result") or {}, **detail}
    if ticket.get("id"):
        amount = (action.get("args") or {}).get("amount") if status == "executed" else None
        svc.tickets.settle(ticket["id"], execution, amount if isinstance(amount, int | float) else None)
    svc.audit.record(f"{thread_id}:action_{status}:{key}", thread_id, "ticketing", f"action_{status}",
                     f"{operation} {status}" + (f": {detail.get('message') or detail.get('error')}"
                                                if status in ("refused", "failed") else ""),
                     evidence={"operation": operation, "key": key, "mode": mode, "call": call,
                               "result": row.get("result"), "ticket_id": ticket.get("id")})
    return {"execution": execution}
