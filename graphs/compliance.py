"""Compliance sub-graph: read the order's facts → evaluate by policy → [human review → record → re-check] → decided.

    START → facts → evaluate ─┬─ (decided) ───────────────────────────────→ END
                              └→ review → record → recheck ─┬─ (same facts) → END
                                   ↑                         └─ (changed) ──┐
                                   └────────────────────────────────────────┘

`facts` and `recheck` only read the system of record; `evaluate` has no side effects; the review loop and why it is
safe to re-run are in agents/compliance/review.py. Writes wait for ticketing's `execute`, a node of its own.
"""

from langgraph.graph import END, START, StateGraph

from agents.compliance import nodes as compliance
from agents.compliance.review import record_decision, review
from agents.state import SpecialistState
from graphs.context import SupportContext, bind


def _after_evaluate(state: SpecialistState) -> str:
    return "review" if state["compliance"]["status"] == "pending" else END


builder = StateGraph(SpecialistState, context_schema=SupportContext)
builder.add_node("facts", bind(compliance.gather_facts, compliance.READS, with_thread=True))
builder.add_node("evaluate", bind(compliance.evaluate, compliance.READS, with_thread=True))
builder.add_node("review", bind(review, compliance.READS))
builder.add_node("record", bind(record_decision, ("compliance",)))
builder.add_node("recheck", bind(compliance.recheck, compliance.READS, with_thread=True))
builder.add_edge(START, "facts")
builder.add_edge("facts", "evaluate")
builder.add_conditional_edges("evaluate", _after_evaluate, ["review", END])
builder.add_edge("review", "record")
builder.add_edge("record", "recheck")
builder.add_conditional_edges("recheck", _after_evaluate, ["review", END])

graph = builder.compile(name="compliance")
