"""Triage sub-graph: classify locally → (unsure and LLM configured) ask the cheap model → enrich."""

from langgraph.graph import END, START, StateGraph

from agents.state import SpecialistState
from agents.triage import nodes as triage
from graphs.context import SupportContext, bind, services_of


def _route(state: SpecialistState, runtime) -> str:
    return "classify_llm" if triage.needs_llm(state, services_of(runtime)) else "enrich"


builder = StateGraph(SpecialistState, context_schema=SupportContext)
builder.add_node("classify", bind(triage.classify, triage.READS))
builder.add_node("classify_llm", bind(triage.classify_llm, triage.READS))
builder.add_node("enrich", bind(triage.enrich, triage.READS))
builder.add_edge(START, "classify")
builder.add_conditional_edges("classify", _route, ["classify_llm", "enrich"])
builder.add_edge("classify_llm", "enrich")
builder.add_edge("enrich", END)

graph = builder.compile(name="triage")
