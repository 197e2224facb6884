"""Size and depth limits of the layer in front of `langgraph dev` (app/studio_http.py), on the real server: an
oversized or absurdly nested body is answered by the layer itself (413 / 400) and nothing of it is stored. The
middleware on its own, in front of a small recording app, is tests/unit/app/test_studio_limits.py."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from app.studio_http import MAX_BODY_BYTES

MARK = "zq-refused-body-7731"


def _nested(depth: int) -> bytes:
    inner = json.dumps({"role": "user", "content": MARK})
    return ('{"assistant_id": "supervisor", "input": ' + "[" * depth + inner + "]" * depth + "}").encode()


@pytest.mark.slow
def test_the_served_graph_refuses_oversized_and_deep_bodies_and_stores_nothing(dev_server, data_dir, tmp_path):
    thread = dev_server.threads.create()
    url = f"{dev_server.http.client.base_url}".rstrip("/")
    run = f"{url}/threads/{thread['thread_id']}/runs/wait"
    big = {"assistant_id": "supervisor",
           "input": {"messages": [{"role": "user", "content": MARK + " " + "a" * MAX_BODY_BYTES}]}}
    with httpx.Client(timeout=60) as c:
        r = c.post(run, json=big)
        assert r.status_code == 413 and "nothing was stored" in r.json()["detail"]
        r = c.post(run, content=_nested(5_000), headers={"content-type": "application/json"})
        assert r.status_code == 400 and "nests 5,00" in r.json()["detail"]
        assert c.get(f"{url}/threads/{thread['thread_id']}/runs").json() == []
    state = dev_server.threads.get_state(thread["thread_id"])
    assert not state["values"] and MARK not in json.dumps(state)
    # the server still answers a well-formed run afterwards
    out = dev_server.runs.wait(thread["thread_id"], "supervisor",
                               input={"messages": [{"role": "user", "content": "How do I reset my password?"}]})
    assert out["outcome"] == "answered"
    stored = [p for root in (tmp_path / "project", Path(data_dir)) for p in root.rglob("*") if p.is_file()]
    assert not [p for p in stored if MARK.encode() in p.read_bytes()]
