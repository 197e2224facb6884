"""Research sub-graph: retrieve from the knowledge base → answer with citations → grounding check."""

from langgraph.graph import END, START, StateGraph

from agents.research import nodes as research
from agents.state import SpecialistState
from graphs.context import SupportContext, bind

builder = StateGraph(SpecialistState, context_schema=SupportContext)
builder.add_node("retrieve", bind(research.retrieve, research.READS))
builder.add_node("answer", bind(research.answer, research.READS))
builder.add_node("check_grounding", bind(research.check_grounding, research.READS))
builder.add_edge(START, "retrieve")
builder.add_edge("retrieve", "answer")
builder.add_edge("answer", "check_grounding")
builder.add_edge("check_grounding", END)

graph = builder.compile(name="research")
