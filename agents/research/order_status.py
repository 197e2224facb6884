"""Questions about the customer's own order, answered from the order itself (the system of record), not from the
help centre: "where is my order?" gets its status, carrier, tracking number and expected date.

Only for a verified customer, and only their orders (agents/orders.py); everyone else gets the help-centre
article, which research finds as before. Sees the customer record but not the message text.
"""

from __future__ import annotations

from typing import Any

from agents import orders
from agents.services import Services
from agents.state import SpecialistState

READS = ("triage", "customer")


def applies(state: SpecialistState, svc: Services) -> bool:
    systems = getattr(svc, "systems", None)
    spec = systems.answer((state.get("triage") or {}).get("intent") or "") if systems is not None else None
    return bool(spec and spec["mode"] != "off" and orders.verified_id(state))


def _when(order: dict[str, Any], key: str) -> str:
    return str(order.get(key) or "")[:10]


def describe(order: dict[str, Any]) -> str:
    """One short paragraph of what the system says about the order."""
    oid, status = order.get("id"), order.get("status")
    items = ", ".join(order.get("items") or [])
    what = f" ({items})" if items else ""
    track = (f" with {order['carrier']}" if order.get("carrier") else "") + (
        f", tracking number {order['tracking']}" if order.get("tracking") else "")
    if status == "shipped":
        text = f"Order {oid}{what} is on its way: it shipped on {_when(order, 'shipped')}{track}."
        if order.get("expected"):
            text += f" It is expected on {_when(order, 'expected')}."
    elif status == "delivered":
        text = f"Order {oid}{what} was delivered on {_when(order, 'delivered')}{track}."
    elif status == "cancelled":
        text = f"Order {oid}{what} was cancelled."
    else:
        text = f"Order {oid}{what} was placed on {_when(order, 'placed')} and has not shipped yet."
        if order.get("expected"):
            text += f" It is expected on {_when(order, 'expected')}."
    refunded = order.get("refunded")
    if isinstance(refunded, int | float) and refunded > 0:
        text += (f" {order.get('currency') or ''} {refunded:,.2f} has been refunded on it; card refunds take 5 to 10 "
                 "business days to appear on your statement.")
    return text


def from_order(state: SpecialistState, svc: Services) -> dict:
    triage = state.get("triage") or {}
    spec = svc.systems.answer(triage.get("intent") or "")
    customer_id = orders.verified_id(state)
    named = ((triage.get("entities") or {}).get("order_ids") or [None])[0]
    if named is None and spec.get("latest"):
        listed = svc.systems.read(spec["latest"], {}, customer_id)
        found = [o for o in listed.get("orders") or [] if isinstance(o, dict)] if listed.get("ok") else []
        if listed.get("unavailable"):
            return {"research": None}  # the system is down: the help-centre article instead
        if not found:
            return _answer("I can't see any orders on your account yet. If you ordered with another email "
                           "address, sign in with that one.")
        named = found[0].get("id")
    if named is None:
        return {"research": None}
    facts = orders.read_order(svc, spec["operation"], str(named), customer_id)
    if facts["lookup"] == "unavailable":
        return {"research": None}
    if facts["lookup"] != "found":
        return _answer(f"I couldn't find order {named} on your account. Please check the number in your order "
                       "confirmation email (or under Orders in your account).")
    return {**_answer(describe(facts["order"])), "facts": facts}


def _answer(text: str) -> dict:
    return {"research": {"answer": text, "citations": [], "retrieved": [], "found": True, "grounded": True,
                         "answered_by": "extractive", "grounding_by": "system of record", "query": ""}}
