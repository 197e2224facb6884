"""What a reviewer reads beside a decision, in words: the order as the company's systems hold it, and what this
customer has asked of us before (refunds and other writes carried out, earlier tickets).

Deciding a $900 refund from the action's arguments alone, a reviewer cannot see that the order was already
refunded in part last week, or that this is the customer's fourth refund this month. Every line is read from
the stores (executions, tickets) and from the facts the compliance step gathered, never from what the customer
wrote. The rule's own words ("Why") and the customer's notes are shown by the caller, above this.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from agents.ticketing.nodes import ACTIONS
from app.desk import SupportDesk
from app.ui import labels

ORDER_FACTS = {"status": "Status", "total": "Total", "refunded": "Refunded so far", "refundable": "Still refundable"}
MONEY = {"total", "refunded", "refundable"}
RESULTS = {"executed": "Done", "refused": "Refused by the system", "dry_run": "Left for a colleague (dry run)",
           "planned": "In progress", "failed": "Failed, being retried"}


def order_facts(facts: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(label, value) for the order the action is about, as looked up when the review was asked."""
    order = (facts or {}).get("order") or {}
    out = [("Order", str(order["id"]))] if order.get("id") else []
    for key, label in ORDER_FACTS.items():
        value = order.get(key)
        if value in (None, ""):
            continue
        is_money = key in MONEY and isinstance(value, int | float) and not isinstance(value, bool)
        out.append((label, labels.money(value, order.get("currency")) if is_money else labels.humanize(str(value))))
    return out


def history(desk: SupportDesk, customer_id: str | None, thread_id: str | None = None, limit: int = 10) -> dict:
    """The customer's earlier writes and tickets (this conversation's own left out), newest first, as table rows."""
    if not customer_id:
        return {"writes": [], "tickets": []}
    svc = desk.services
    writes = []
    for row in svc.executions.of_customer(customer_id, limit):
        if row.get("thread_id") == thread_id:
            continue
        args = (row.get("call") or {}).get("arguments") or {}
        amount = args.get("amount") if isinstance(args.get("amount"), int | float) else None
        writes.append({"When": labels.when(row.get("created_at")), "What": ACTIONS.get(row["action"], row["action"]),
                       "Order": args.get("order_id") or "—", "Amount": labels.money(amount, args.get("currency")),
                       "Result": RESULTS.get(row["status"], labels.humanize(row["status"]))})
    tickets = [{"When": labels.when(t["created_at"]), "Ticket": t["id"], "Summary": labels.preview(t.get("summary")),
                "Status": labels.status(t["status"])}
               for t in svc.tickets.list(customer_id=customer_id, limit=limit) if t.get("thread_id") != thread_id]
    return {"writes": writes, "tickets": tickets}


def review_context(desk: SupportDesk, item: dict) -> None:
    """The order and the customer's history, beside the decision controls."""
    facts = order_facts(item.get("facts"))
    if facts:
        st.markdown("**The order in our systems:** " + " · ".join(f"{k}: {v}" for k, v in facts))
    past = history(desk, item.get("customer_id"), item.get("thread_id"))
    who = item.get("customer_id")
    if not who:
        st.caption("Anonymous customer: no earlier history to show.")
        return
    if past["writes"]:
        st.markdown(f"**Earlier refunds and changes for {who}:**")
        st.dataframe(past["writes"], hide_index=True, width="stretch")
    if past["tickets"]:
        st.markdown(f"**Earlier tickets of {who}:**")
        st.dataframe(past["tickets"], hide_index=True, width="stretch")
    if not past["writes"] and not past["tickets"]:
        st.caption(f"No earlier refunds, changes or tickets for {who}.")
