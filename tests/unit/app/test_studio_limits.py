"""Size and depth limits of the layer in front of `langgraph dev` (app/studio_http.py).

An oversized or absurdly nested body is answered by the layer itself (413 / 400, JSON) and never reaches the server,
so nothing of it is stored. These tests put the middleware in front of a small app that records what reaches it;
the real server is tests/system/test_studio_limits.py.
"""

from __future__ import annotations

import asyncio
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from app.studio_http import MAX_BODY_BYTES, MAX_JSON_DEPTH, RedactRunInput, json_depth

MARK = "zq-refused-body-7731"


def _recorder(received: list[bytes], **limits) -> TestClient:
    async def store(request: Request) -> JSONResponse:
        received.append(await request.body())
        return JSONResponse({"stored": True})

    inner = Starlette(routes=[Route("/threads/{tid}/runs/wait", store, methods=["POST"]),
                              Route("/threads/search", store, methods=["POST", "GET"])])
    return TestClient(RedactRunInput(inner, **limits))


def _nested(depth: int) -> bytes:
    inner = json.dumps({"role": "user", "content": MARK})
    return ('{"assistant_id": "supervisor", "input": ' + "[" * depth + inner + "]" * depth + "}").encode()


def test_a_body_over_the_size_limit_is_refused_with_413_and_not_passed_on():
    received: list[bytes] = []
    client = _recorder(received, max_bytes=1000)
    body = json.dumps({"input": {"messages": [{"role": "user", "content": MARK + "x" * 2000}]}})
    r = client.post("/threads/t/runs/wait", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "1,000 bytes" in r.json()["detail"] and "nothing was stored" in r.json()["detail"]
    # a route that does not start runs is bounded too
    assert client.post("/threads/search", content=body).status_code == 413
    assert received == []


def test_a_chunked_body_without_a_length_is_cut_off_at_the_limit():
    """No content-length to trust: the layer stops reading once the limit is passed, and the app never runs."""
    calls: list[str] = []
    sent: list[dict] = []
    reads = 0

    async def inner(scope, receive, send):
        calls.append(scope["path"])

    async def receive():
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * 400, "more_body": True}  # endless

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/threads/t/runs", "headers": [], "query_string": b""}
    asyncio.run(RedactRunInput(inner, max_bytes=1000)(scope, receive, send))
    assert calls == [] and reads == 3
    assert sent[0]["status"] == 413 and "over the limit" in json.loads(sent[1]["body"])["detail"]


def test_json_nested_past_the_depth_limit_is_refused_with_400():
    received: list[bytes] = []
    client = _recorder(received)
    for depth in (MAX_JSON_DEPTH + 1, 100_000):  # 100,000 levels made the JSON parser raise RecursionError: a 500
        r = client.post("/threads/t/runs/wait", content=_nested(depth))
        assert r.status_code == 400, (depth, r.text)
        assert f"the limit is {MAX_JSON_DEPTH}" in r.json()["detail"]
    assert received == []


def test_bodies_within_the_limits_pass_redacted():
    received: list[bytes] = []
    client = _recorder(received)
    ok = _nested(MAX_JSON_DEPTH - 2).replace(MARK.encode(), b"mail jane.roe@example.com")  # 2 levels of wrapping
    assert json_depth(ok) == MAX_JSON_DEPTH
    assert client.post("/threads/t/runs/wait", content=ok).json() == {"stored": True}
    assert b"jane.roe@example.com" not in received[0] and b"[EMAIL]" in received[0]
    brackets = json.dumps({"input": {"content": "[" * 500 + "{" * 500}}).encode()  # brackets inside a string
    assert json_depth(brackets) == 2 and client.post("/threads/t/runs/wait", content=brackets).status_code == 200
    near = json.dumps({"q": "a" * (MAX_BODY_BYTES - 20)}).encode()
    assert len(near) <= MAX_BODY_BYTES and client.post("/threads/search", content=near).status_code == 200
    assert received[-1] == near  # not a run: passed unchanged
    assert client.get("/threads/search").status_code == 200


