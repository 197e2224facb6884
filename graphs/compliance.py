"""Compliance sub-graph: evaluate the proposed action by policy → [human review → record] → decided.

`evaluate` has no side effects; the review loop and why it is safe to re-run are in agents/compliance/review.py.
"""

from langgraph.graph import END, START, StateGraph

from agents.compliance import nodes as compliance
from agents.compliance.review import record_decision, review
from agents.state import SpecialistState
from graphs.context import SupportContext, bind


def _after_evaluate(state: SpecialistState) -> str:
    return "review" if state["compliance"]["status"] == "pending" else END


builder = StateGraph(SpecialistState, context_schema=SupportContext)
builder.add_node("evaluate", bind(compliance.evaluate, compliance.READS, with_thread=True))
builder.add_node("review", bind(review, compliance.READS))
builder.add_node("record", bind(record_decision, ("compliance",)))
builder.add_edge(START, "evaluate")
builder.add_conditional_edges("evaluate", _after_evaluate, ["review", END])
builder.add_edge("review", "record")
builder.add_edge("record", END)

graph = builder.compile(name="compliance")
