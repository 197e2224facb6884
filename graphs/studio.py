"""Graphs exported for LangGraph Studio / `langgraph dev`, which supplies its own persistence."""

from graphs import compliance, research, ticketing, triage
from graphs.supervisor import build_graph

supervisor = build_graph()
triage_graph = triage.graph
research_graph = research.graph
compliance_graph = compliance.graph
ticketing_graph = ticketing.graph
