"""The supervisor graph: intake → triage → slots → specialists chosen by the planner → respond.

    START → intake ─┬─ (bad input) ──────────────────────────────────────→ respond → END
                    ├─ (a person holds the conversation) → handoff ───────→ respond → END
                    └→ triage → slots → supervisor ⇄ research | compliance | ticketing
                                            └──────────────────────────────→ respond → END

`slots` (agents/turn/understand.py) splits the message into its requests and holds back any action that lacks a
required detail (it asks for it instead). The supervisor runs each request's route in turn.
A conversation a person has taken over (app/store/handoff.py) goes to them: `handoff` forwards the message into
their ticket and the desk says nothing. Routing is deterministic (agents/supervisor/planner.py): no LLM decides
which specialist runs or whether a human must approve.
"""

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from agents.state import SupportInput, SupportState
from agents.supervisor import conversation, planner
from agents.ticketing import handoff
from agents.turn import understand as turn
from graphs import compliance, research, ticketing, triage
from graphs.context import SupportContext, bind

SPECIALISTS = ("research", "compliance", "ticketing")
ENTRY = "intake"  # the first node of every turn: a run stopped before it holds only its saved input


def supervise(state: SupportState, svc) -> Command:
    step, update = planner.next_step(state, svc)
    if step != "respond":
        update["route"] = [step]
    return Command(goto=step, update=update)


def _after_intake(state: SupportState) -> str:
    if state.get("error"):
        return "respond"
    return "handoff" if state.get("handoff") else "triage"


def build_graph(checkpointer=None, name: str = "supervisor"):
    """Compile the supervisor; pass a checkpointer for multi-turn threads and human review."""
    builder = StateGraph(SupportState, input_schema=SupportInput, context_schema=SupportContext)
    builder.add_node(ENTRY, bind(conversation.intake, with_thread=True))
    builder.add_node("triage", triage.graph)
    builder.add_node("slots", bind(turn.understand, turn.READS))
    builder.add_node("supervisor", bind(supervise), destinations=(*SPECIALISTS, "respond"))
    builder.add_node("research", research.graph)
    builder.add_node("compliance", compliance.graph)
    builder.add_node("ticketing", ticketing.graph)
    builder.add_node("handoff", bind(handoff.forward, with_thread=True))
    builder.add_node("respond", bind(conversation.respond, with_thread=True))

    builder.add_edge(START, ENTRY)
    builder.add_conditional_edges(ENTRY, _after_intake, ["triage", "handoff", "respond"])
    builder.add_edge("handoff", "respond")
    builder.add_edge("triage", "slots")
    builder.add_edge("slots", "supervisor")
    for name_ in SPECIALISTS:
        builder.add_edge(name_, "supervisor")
    builder.add_edge("respond", END)
    return builder.compile(checkpointer=checkpointer, name=name)
