"""Custom HTTP layer for graphs served by `langgraph dev` / an Agent-Protocol server (`langgraph.json` "http").

Such a server checkpoints a run's input as received, before the graph's `intake` node can redact it, so raw
personal data would land in the server's own storage. This middleware redacts the request body first: every string
in a run's `input`, `command` (resume values: reviewer notes, edit arguments) and a state update's `values`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.applications import Starlette

from knowledge.pii import redact

_WRITES = re.compile(r"/(runs(/wait|/stream|/batch)?|state)/?$")
_REDACTED_KEYS = ("input", "command", "values")


def _deep(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_deep(v) for v in value]
    if isinstance(value, dict):
        return {k: _deep(v) for k, v in value.items()}
    return value


def redact_body(body: bytes) -> bytes:
    """The request body with personal data redacted where a run's data lives; anything else passes unchanged."""
    try:
        data = json.loads(body)
    except ValueError:
        return body
    items = data if isinstance(data, list) else [data]  # /runs/batch posts a list
    for item in items:
        if isinstance(item, dict):
            for key in _REDACTED_KEYS:
                if key in item:
                    item[key] = _deep(item[key])
    return json.dumps(data).encode()


class RedactRunInput:
    """Pure ASGI middleware: buffers the body of POSTs that start runs or write state, and redacts it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or not _WRITES.search(scope["path"]):
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # client went away
                await self.app(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = redact_body(b"".join(chunks))
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        scope = {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}
        delivered = False

        async def replay():
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


app = Starlette()
app.add_middleware(RedactRunInput)
