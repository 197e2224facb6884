"""The real `langgraph dev` server: create a thread, pause on a big refund, resume, one ticket.

The server runs from a scratch project folder holding a copy of the repository's langgraph.json
(graph paths made absolute) and a `.env` that is the only place the data directory is set, so the
test also shows that `.env` configures the graphs.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import ROOT, free_port, make_settings, server

pytestmark = pytest.mark.slow
LANGGRAPH = Path(os.environ.get("VIRTUAL_ENV", Path(__import__("sys").executable).parent.parent)) / "bin" / "langgraph"


def _project(tmp_path: Path, data_dir: Path) -> Path:
    """A folder with the repo's langgraph.json (absolute graph paths) and a .env naming the data dir."""
    config = json.loads((ROOT / "langgraph.json").read_text())
    assert config["env"] == ".env"
    config["graphs"] = {name: str(ROOT / spec.removeprefix("./")) for name, spec in config["graphs"].items()}
    config["dependencies"] = [str(ROOT)]
    project = tmp_path / "project"
    project.mkdir()
    (project / "langgraph.json").write_text(json.dumps(config))
    (project / ".env").write_text(f"SUPPORT_DATA_DIR={data_dir}\nSUPPORT_OFFLINE=true\n")
    return project


@pytest.fixture
def dev_server(data_dir, tmp_path):
    exe = LANGGRAPH if LANGGRAPH.exists() else shutil.which("langgraph")
    if not exe:
        pytest.skip("langgraph-cli is not installed")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPPORT_")}  # .env is the only source
    env["LANGSMITH_TRACING"] = "false"
    from langgraph_sdk import get_sync_client

    client = get_sync_client(url=f"http://127.0.0.1:{port}")
    with server([str(exe), "dev", "--no-browser", "--no-reload", "--port", str(port)], _project(tmp_path, data_dir),
                env, tmp_path / "dev.log", client.assistants.search, "langgraph dev"):
        yield client


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
    out = dev_server.runs.wait(tid, "supervisor",
                               command={"resume": {"decisions": [{"type": "approve", "reviewer": "ana"}]}})
    assert out["outcome"] == "ticket_created"
    tickets = TicketStore(make_settings(data_dir).app_db).list()
    assert len(tickets) == 1 and tickets[0]["reviewer"] == "ana"
