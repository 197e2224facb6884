"""Custom HTTP layer for graphs served by `langgraph dev` / an Agent-Protocol server (`langgraph.json` "http").

Such a server checkpoints a run's input as received, before the graph's `intake` node can redact it, so raw
personal data would land in the server's own storage. This middleware redacts the request body first: every string
in a run's `input`, `command` (resume values: reviewer notes, edit arguments) and a state update's `values`.

It also bounds what it reads. A body over `MAX_BODY_BYTES` gets 413 and a JSON body nested deeper than
`MAX_JSON_DEPTH` gets 400, before the server sees either, so nothing of it is stored. Without the depth bound, a
few hundred kilobytes of `[[[[…` make the JSON parser raise RecursionError: a 500, and a payload no redaction
reached. Errors use the server's own shape, `{"detail": …}`, which the SDK and Studio show.
"""

from __future__ import annotations

import json
import re

from starlette.applications import Starlette
from starlette.responses import JSONResponse

from knowledge.pii import redact_value

MAX_BODY_BYTES = 1_048_576  # a run body carries one message (at most 20,000 characters) plus config: ample room
MAX_JSON_DEPTH = 64  # a run body nests about 6 deep; far below the parser's recursion limit
_WRITES = re.compile(r"/(runs(/wait|/stream|/batch)?|state)/?$")
_REDACTED_KEYS = ("input", "command", "values")
_BODY_METHODS = {"POST", "PUT", "PATCH"}
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')  # JSON strings, whose brackets do not nest
_BRACKET = re.compile(rb"[\[\]{}]")


class BodyRefused(ValueError):
    """A request body this layer will not pass on; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in `body`, counted without parsing it (so any depth is safe to ask)."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub(b'""', body)):
        if bracket in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _too_big(max_bytes: int) -> BodyRefused:
    return BodyRefused(413, f"request body is over the limit of {max_bytes:,} bytes; nothing was stored")


def check_body(body: bytes, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_JSON_DEPTH) -> None:
    if len(body) > max_bytes:
        raise _too_big(max_bytes)
    depth = json_depth(body)
    if depth > max_depth:
        raise BodyRefused(400, f"JSON nests {depth:,} levels deep; the limit is {max_depth}; nothing was stored")


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
                    item[key] = redact_value(item[key])
    return json.dumps(data).encode()


class RedactRunInput:
    """Pure ASGI middleware: bounds every request body, and redacts those that start runs or write state."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_JSON_DEPTH):
        self.app, self.max_bytes, self.max_depth = app, max_bytes, max_depth

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        try:
            declared = int(dict(scope["headers"]).get(b"content-length", b"0"))
        except ValueError:
            declared = 0
        if declared > self.max_bytes:  # refused before a byte of it is read
            await self._refuse(scope, receive, send, _too_big(self.max_bytes))
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:  # a chunked body with no (or a false) length: stop reading at the limit
                await self._refuse(scope, receive, send, _too_big(self.max_bytes))
                return
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            check_body(body, self.max_bytes, self.max_depth)
        except BodyRefused as exc:
            await self._refuse(scope, receive, send, exc)
            return
        if _WRITES.search(scope["path"]) and scope["method"] == "POST":
            body = redact_body(body)
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

    @staticmethod
    async def _refuse(scope, receive, send, exc: BodyRefused) -> None:
        response = JSONResponse({"detail": str(exc)}, status_code=exc.status, headers={"Connection": "close"})
        await response(scope, receive, send)


app = Starlette()
app.add_middleware(RedactRunInput)
