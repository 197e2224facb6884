"""Ticketing sub-graph: idempotent ticket → carry out the approved action in the company's system → notify.

`execute` is the only node that writes to a company system; it never pauses (no `interrupt()`), and its call carries
an idempotency key, so LangGraph's retry of the node or a re-run after a crash cannot act twice. Connector retries
with backoff happen inside the call (app/connectors/systems.py); a system that stays down leaves the ticket open
for a person instead of failing the turn.
"""

import sqlite3

from langgraph.graph import END, START, StateGraph
from langgraph.types import RetryPolicy

from agents.state import SpecialistState
from agents.ticketing import execute
from agents.ticketing import nodes as ticketing
from graphs.context import SupportContext, bind

STORE_RETRY = RetryPolicy(max_attempts=4, initial_interval=0.2, retry_on=(sqlite3.OperationalError, OSError))

builder = StateGraph(SpecialistState, context_schema=SupportContext)
builder.add_node("open_ticket", bind(ticketing.open_ticket, ticketing.READS, with_thread=True),
                 retry_policy=STORE_RETRY)
builder.add_node("execute", bind(execute.execute, ticketing.READS, with_thread=True), retry_policy=STORE_RETRY)
builder.add_node("notify", bind(ticketing.notify, ticketing.READS), retry_policy=STORE_RETRY)
builder.add_edge(START, "open_ticket")
builder.add_edge("open_ticket", "execute")
builder.add_edge("execute", "notify")
builder.add_edge("notify", END)

graph = builder.compile(name="ticketing")
