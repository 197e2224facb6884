"""Settling writes a crash left without a recorded outcome: the reconciler.

A `planned` (or `failed`) execution is called again with its own idempotency key, so the system answers with the
outcome of the first call if it got through, or carries it out now if it did not: either way once. The ticket and
the audit trail are settled as the graph's `execute` node would have (agents/ticketing/execute.py).
"""

from __future__ import annotations

from typing import Any

IDENTITY_FIELDS = ("customer_id", "idempotency_key")


def _resend_args(row: dict[str, Any], svc) -> dict[str, Any] | None:
    """The call's own arguments (without who and which key: `Systems.plan` adds them), or None when the record
    holds a redacted value (a contact detail) that cannot be sent again: a person completes that one."""
    args = {k: v for k, v in ((row.get("call") or {}).get("arguments") or {}).items() if k not in IDENTITY_FIELDS}
    if any(isinstance(v, str) and v.startswith("[") and v.endswith("]") for v in args.values()):
        return None
    return args


def reconcile(svc, older_than: float = 60.0, limit: int = 100) -> list[dict[str, Any]]:
    """Settle unfinished live writes older than `older_than` seconds; what each came to."""
    from agents.ticketing.execute import read_outcome  # the same reading of a result as the graph's

    settled = []
    for row in svc.executions.unfinished(older_than=older_than, limit=limit):
        if row["mode"] != "live" or not row.get("customer_id"):
            continue
        args = _resend_args(row, svc)
        if args is None:
            settled.append({"key": row["key"], "status": "needs_person", "operation": row["operation"]})
            continue
        svc.executions.attempt(row["key"])
        result = svc.systems.write(row["operation"], args, row["customer_id"], row["key"])
        status, detail = read_outcome(result, "live")
        svc.executions.finish(row["key"], status, result=result, error=detail.get("error"),
                              reference=detail.get("reference"))
        execution = {"status": status, "operation": row["operation"], "key": row["key"], "result": result, **detail}
        if row.get("ticket_id") and status != "failed":
            svc.tickets.settle(row["ticket_id"], execution, args.get("amount") if status == "executed" else None)
        svc.audit.record(f"{row['thread_id']}:action_{status}:{row['key']}", row["thread_id"], "reconciler",
                         f"action_{status}", f"{row['operation']} {status} (reconciled)",
                         evidence={"operation": row["operation"], "key": row["key"], "result": result,
                                   "ticket_id": row.get("ticket_id")})
        settled.append({"key": row["key"], "status": status, "operation": row["operation"],
                        "reference": detail.get("reference")})
    return settled
