"""How the console words a streamed turn's progress (the events come from app/streaming.py).

The specialists' names are the customer's words for the agents; a progress line never shows a rule, queue or node
name (those are the team's).
"""

from __future__ import annotations

from app.streaming import Event

AGENTS = {"intake": "Intake", "triage": "Triage", "supervisor": "Supervisor", "research": "Research",
          "compliance": "Compliance", "ticketing": "Ticketing", "respond": "Reply"}


def progress_line(ev: Event) -> str | None:
    """Which specialist works, in words; None for events the customer is not shown."""
    if ev.kind == "route":
        return f"{AGENTS.get(ev.data['to'], ev.data['to'])} is looking into it"
    if ev.kind == "finished":
        return f"✓ {AGENTS.get(ev.agent, ev.agent)} finished"
    if ev.kind == "paused":
        return "Passed to our team for a quick check"
    return None
