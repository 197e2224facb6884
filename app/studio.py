"""Graphs exported for LangGraph Studio / `langgraph dev`, which supplies its own persistence.

They run without a context, so this module registers the services built from the environment as the default.
"""

from app.services import default_services
from graphs import compliance, research, ticketing, triage
from graphs.context import use_default_services
from graphs.supervisor import build_graph

use_default_services(default_services)

supervisor = build_graph()
triage_graph = triage.graph
research_graph = research.graph
compliance_graph = compliance.graph
ticketing_graph = ticketing.graph
