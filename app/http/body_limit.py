"""The request-body ceiling, enforced before anything reads a body: authentication, FastAPI's parsing, a route.

Without it an unauthenticated 100 MB upload was read whole before its 401 (a worker's RSS 660 → 909 MB; four at
once, 1.2 GB). A body without a declared length (chunked) is counted as it arrives by Starlette's
RequestBodyLimitMiddleware, which stops it as soon as it passes the limit, so no more than the limit plus one chunk
is ever held; its 413 reaches the application's error handler, which answers in JSON. What Starlette does not do is
refuse a declared Content-Length before the application runs: it lets the route run (a bodyless one runs in full)
and swaps its answer for a plain-text 413. The gate here answers that case at once, in JSON, with nothing received
and nothing of the application run. FastAPI(max_body_size=…) is the same Starlette middleware placed outside every
user middleware, where it would swap this JSON 413 for its plain-text one, so it is not used.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send


def too_large(max_bytes: int) -> str:
    return f"request body too large: the limit is {max_bytes} bytes"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = RequestBodyLimitMiddleware(app, max_body_size=max_bytes), max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = Headers(scope=scope).get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                # Connection: close, so the rest of the upload is not received only to be thrown away
                refusal = JSONResponse({"error": too_large(self.max_bytes)}, status_code=413,
                                       headers={"Connection": "close"})
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)
