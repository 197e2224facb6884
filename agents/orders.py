"""Facts before policy: the order an action names, read from the system of record for the verified customer.

Policy decides on what the system says, not on what the message says: a refund above what is left to refund, an
order that is not the customer's, a cancellation of a shipped order are all refused from these facts. Only a
verified customer's orders are read (`principal.customer.id`, from a signature); anyone else gets no order
details at all. Reads have no side effect, so these nodes may run before and after a review pause.

An approval is bound to the facts it saw (`decision["bound"]`); `recheck` reads them again after a review, and a
change (the order was refunded or shipped meanwhile) or a new policy version sends the action back to review.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from agents.services import Services
from agents.state import SpecialistState

ORDER_KEYS = ("id", "status", "total", "currency", "refunded", "refundable", "placed", "shipped", "delivered",
              "expected", "carrier", "tracking")
BOUND_KEYS = ("status", "total", "currency", "refunded", "refundable")  # what must not change under an approval


def _systems(svc: Services):
    return getattr(svc, "systems", None)


def binding(action: dict[str, Any], svc: Services) -> dict[str, Any] | None:
    """The registry's write for this action, when it is on (live or dry run); None when nothing is carried out."""
    systems = _systems(svc)
    bound = systems.binding(action.get("name") or "") if systems is not None else None
    return bound if bound and bound["mode"] != "off" else None


def verified_id(state: SpecialistState) -> str | None:
    customer = state.get("customer") or {}
    return str(customer["id"]) if customer.get("verified") and customer.get("id") else None


def read_order(svc: Services, operation: str, order_id: str, customer_id: str | None) -> dict[str, Any]:
    """The Facts of one order for one customer; another customer's order reads exactly as a missing one."""
    if customer_id is None:
        return {"lookup": "unverified", "operation": operation}
    result = _systems(svc).read(operation, {"order_id": str(order_id)}, customer_id)
    if result.get("unavailable"):
        return {"lookup": "unavailable", "operation": operation, "error": (result.get("error") or {}).get("message")}
    if not result.get("ok"):
        return {"lookup": "not_found", "operation": operation}
    order = result.get("order") or {}
    return {"lookup": "found", "operation": operation, "order": {k: order.get(k) for k in ORDER_KEYS} | {
        "items": [i.get("name") for i in order.get("items") or [] if isinstance(i, dict)]}}


def look_up(state: SpecialistState, svc: Services, action: dict[str, Any], thread_id: str | None = None,
            replay: bool = False) -> dict[str, Any] | None:
    """The facts for `action`, or None when it names no order or no system carries it out.

    With `replay`, the facts a write with this action's idempotency key was decided on are used when the desk
    already made (or began) that write: the turn is running again (a crash, a retried message), and the order now
    shows the desk's own refund; read afresh, it would refuse what it has already done."""
    bound = binding(action, svc)
    order_id = (action.get("args") or {}).get("order_id")
    if bound is None or not bound.get("facts") or not order_id:
        return None
    if replay and thread_id and (executions := getattr(svc, "executions", None)) is not None:
        row = executions.get(idempotency_key(thread_id, action["name"], call_args(action, svc, thread_id)))
        if row and row.get("facts"):
            return {**row["facts"], "replay": row["key"]}
    return read_order(svc, bound["facts"], str(order_id), verified_id(state))


def days_since(day: Any, today: dt.date | None = None) -> int | None:
    if not day:
        return None
    try:
        when = dt.date.fromisoformat(str(day)[:10])
    except ValueError:
        return None
    return ((today or dt.date.today()) - when).days


def policy_facts(facts: dict[str, Any] | None, args: dict[str, Any]) -> dict[str, Any]:
    """What the policy's order conditions test (agents/compliance/policy.py `When`)."""
    if not facts:
        return {"lookup": None}
    order = facts.get("order") or {}
    out: dict[str, Any] = {"lookup": facts.get("lookup"), "order_status": order.get("status"),
                           "days_since_delivery": days_since(order.get("delivered"))}
    refundable, amount = order.get("refundable"), args.get("amount")
    if isinstance(refundable, int | float):
        out["refundable"] = float(refundable)
        same = (args.get("currency") or order.get("currency")) == order.get("currency")
        out["currency_matches_order"] = same
        if isinstance(amount, int | float) and not isinstance(amount, bool) and same:
            out["over_refundable"] = amount > float(refundable) + 1e-9
    return out


def message_values(facts: dict[str, Any] | None, args: dict[str, Any]) -> dict[str, str]:
    """What a rule's customer message may name: {order_id}, {refundable}, {status}, {carrier}."""
    order = (facts or {}).get("order") or {}
    values = {"order_id": str(args.get("order_id") or order.get("id") or "your order"),
              "status": str(order.get("status") or ""), "carrier": str(order.get("carrier") or "")}
    if isinstance(order.get("refundable"), int | float):
        values["refundable"] = f"{order.get('currency') or ''} {float(order['refundable']):,.2f}".strip()
    return values


def bound_facts(facts: dict[str, Any] | None) -> dict[str, Any] | None:
    if not facts:
        return None
    order = facts.get("order") or {}
    return {"lookup": facts.get("lookup"), **{k: order.get(k) for k in BOUND_KEYS}}


def changed(decision: dict[str, Any], facts: dict[str, Any] | None, policy_version: str) -> list[str]:
    """What differs from what the approval saw: fact names, and "policy_version" when the policy changed."""
    bound = decision.get("bound") or {}
    was, now = bound.get("facts"), bound_facts(facts)
    diffs = [k for k in sorted(set(was or {}) | set(now or {})) if (was or {}).get(k) != (now or {}).get(k)]
    if bound.get("policy_version") and bound["policy_version"] != policy_version:
        diffs.append("policy_version")
    return diffs


PLACEHOLDERS = {"[EMAIL]": "email", "[PHONE]": "phone"}  # redacted values the vault holds for this thread


def idempotency_key(thread_id: str, action: str, args: dict[str, Any]) -> str:
    """The same action with the same arguments in the same thread is one write, however often the turn runs (a
    retried message, a re-run after a crash, the same request sent again): the system answers it once."""
    body = json.dumps({"thread": thread_id, "action": action, "args": args}, sort_keys=True, default=str)
    return "sf-" + hashlib.sha256(body.encode()).hexdigest()[:32]


def call_args(action: dict[str, Any], svc: Services, thread_id: str) -> dict[str, Any]:
    """The action's arguments as the system needs them: a redacted contact detail is the one the vault holds."""
    args = {k: v for k, v in action["args"].items() if k not in ("intent", "missing")}
    kind = PLACEHOLDERS.get(str(args.get("value")))
    if kind:
        kept = (svc.vault.contacts(thread_id) or {}).get(kind) or []
        if kept:
            args["value"] = kept[-1]
    return args
