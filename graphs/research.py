"""Research sub-graph: a verified customer's question about their own order is answered from the order; anything
else: retrieve from the knowledge base → answer with citations → grounding check.

    START ─┬─ (own order, verified) → from_order ─┬─ (answered) ────────────→ END
           │                                       └─ (system down) ─┐
           └──────────────────────────────────────────────────────── retrieve → answer → check_grounding → END
"""

from langgraph.graph import END, START, StateGraph

from agents.research import nodes as research
from agents.research import order_status
from agents.state import SpecialistState
from graphs.context import SupportContext, bind, services_of


def _start(state: SpecialistState, runtime) -> str:
    return "from_order" if order_status.applies(state, services_of(runtime)) else "retrieve"


def _after_order(state: SpecialistState) -> str:
    return END if state.get("research") else "retrieve"


builder = StateGraph(SpecialistState, context_schema=SupportContext)
builder.add_node("from_order", bind(order_status.from_order, order_status.READS))
builder.add_node("retrieve", bind(research.retrieve, research.READS))
builder.add_node("answer", bind(research.answer, research.READS))
builder.add_node("check_grounding", bind(research.check_grounding, research.READS))
builder.add_conditional_edges(START, _start, ["from_order", "retrieve"])
builder.add_conditional_edges("from_order", _after_order, ["retrieve", END])
builder.add_edge("retrieve", "answer")
builder.add_edge("answer", "check_grounding")
builder.add_edge("check_grounding", END)

graph = builder.compile(name="research")
