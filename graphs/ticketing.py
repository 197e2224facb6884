"""Ticketing sub-graph: idempotent ticket creation → customer notification."""

import sqlite3

from langgraph.graph import END, START, StateGraph
from langgraph.types import RetryPolicy

from agents.state import SpecialistState
from agents.ticketing import nodes as ticketing
from graphs.context import SupportContext, bind

STORE_RETRY = RetryPolicy(max_attempts=4, initial_interval=0.2, retry_on=(sqlite3.OperationalError, OSError))

builder = StateGraph(SpecialistState, context_schema=SupportContext)
builder.add_node("open_ticket", bind(ticketing.open_ticket, ticketing.READS, with_thread=True),
                 retry_policy=STORE_RETRY)
builder.add_node("notify", bind(ticketing.notify, ticketing.READS), retry_policy=STORE_RETRY)
builder.add_edge(START, "open_ticket")
builder.add_edge("open_ticket", "notify")
builder.add_edge("notify", END)

graph = builder.compile(name="ticketing")
