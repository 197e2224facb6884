"""The real `langgraph dev` server: create a thread, pause on a big refund, resume, one ticket.

The server runs from a scratch project folder holding a copy of the repository's langgraph.json (paths made
absolute; tests/helpers.py `langgraph_project`) and a `.env` that is the only place the data directory is set,
so the test also shows that `.env` configures the graphs.
"""

from __future__ import annotations

import pytest

from tests.helpers import make_settings

pytestmark = pytest.mark.slow


def test_dev_server_interrupt_and_resume(dev_server, data_dir):
    from app.store.tickets import TicketStore

    graphs = {a["graph_id"] for a in dev_server.assistants.search()}
    assert {"supervisor", "triage", "research", "compliance", "ticketing"} <= graphs
    thread = dev_server.threads.create()
    tid = thread["thread_id"]
    dev_server.runs.wait(tid, "supervisor",
                         input={"messages": [{"role": "user", "content": "Refund $900 for order #55120 please"}]})
    state = dev_server.threads.get_state(tid)
    assert state["next"] == ["compliance"]
    interrupt = (state["interrupts"][0]["value"] if state.get("interrupts")
                 else state["tasks"][0]["interrupts"][0]["value"])
    request = interrupt["action_requests"][0]
    assert request["name"] == "refund" and request["args"]["amount"] == 900.0 and request["args"]["order_id"] == "55120"
    assert interrupt["metadata"]["rule_id"] == "refund-over-limit" and interrupt["metadata"]["reviewer_role"]
    assert interrupt["review_configs"][0]["allowed_decisions"] == ["approve", "edit", "reject"]
    # A bare reviewer id proves nothing: refused and asked again (it used to approve as that reviewer).
    dev_server.runs.wait(tid, "supervisor", command={"resume": {"decisions": [{"type": "approve", "reviewer": "max"}]}})
    state = dev_server.threads.get_state(tid)
    again = (state["interrupts"][0]["value"] if state.get("interrupts")
             else state["tasks"][0]["interrupts"][0]["value"])
    assert "is not proven" in again["metadata"]["error"]
    assert TicketStore(make_settings(data_dir).app_db).list() == []
    out = dev_server.runs.wait(tid, "supervisor", command={"resume": {"decisions": [
        {"type": "approve", "reviewer": "ana", "token": "demo-ana"}]}})  # the reviewer's token proves who decides
    assert out["outcome"] == "ticket_created"
    tickets = TicketStore(make_settings(data_dir).app_db).list()
    assert len(tickets) == 1 and tickets[0]["reviewer"] == "ana"
