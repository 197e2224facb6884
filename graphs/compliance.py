"""Compliance sub-graph: evaluate the proposed action by policy → [human review] → decided.

`evaluate` has no side effects, and `review` does nothing before `interrupt()`, because a
node re-runs from the top when the run resumes. Side effects wait for ticketing.
"""

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from agents import compliance
from graphs.context import SupportContext, bind
from graphs.state import SpecialistState


def review(state: SpecialistState, svc) -> dict:
    """Pause for a human; a malformed answer or an unqualified reviewer re-asks with the error."""
    decision, error = state["compliance"], None
    while True:
        value = interrupt(compliance.review_request(decision, error))
        try:
            choice = compliance.parse_resume(value, decision["action"]["name"])
            compliance.check_reviewer(decision, choice, svc)  # role and approval limit, from the registry
        except compliance.ReviewPayloadError as exc:
            error = str(exc)
            continue
        decided = compliance.apply_decision(decision, choice, state, svc)
        if decided["status"] != "pending":
            return {"compliance": decided, "outcome": None}
        decision, error = decided, None  # an edit landed on another rule that needs review


def _after_evaluate(state: SpecialistState) -> str:
    return "review" if state["compliance"]["status"] == "pending" else END


builder = StateGraph(SpecialistState, context_schema=SupportContext)
builder.add_node("evaluate", bind(compliance.evaluate, compliance.READS))
builder.add_node("review", bind(review, compliance.READS))
builder.add_edge(START, "evaluate")
builder.add_conditional_edges("evaluate", _after_evaluate, ["review", END])
builder.add_edge("review", END)

graph = builder.compile(name="compliance")
