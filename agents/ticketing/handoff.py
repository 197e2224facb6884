"""A conversation a person holds: the customer's message goes to them, not to the desk.

Intake reads who holds the thread (app/store/handoff.py); this node forwards the message into that ticket and
notifies its holder, keyed by the message, so a retried or replayed turn forwards it once. It never pauses, and
nothing else of the desk runs for the turn: no answer, no classification, no new ticket.
"""

from __future__ import annotations

from langchain_core.messages import HumanMessage

from agents.services import Services
from agents.state import SupportState


def forward(state: SupportState, svc: Services, thread_id: str) -> dict:
    handoff = state["handoff"]
    last = next((m for m in reversed(state.get("messages") or []) if isinstance(m, HumanMessage)), None)
    body = str(last.content) if last is not None else state.get("request", "")  # redacted at intake
    key = state.get("message_id") or f"{thread_id}:turn:{state.get('turn', 0)}"
    svc.tickets.forward(handoff["ticket_id"], key, body)
    return {"outcome": "with_person"}
