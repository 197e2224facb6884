"""Per-key request budgets for the /v1 routes, on the `limits` library: over budget, 429 with Retry-After.

Without them one key could send as fast as it liked (200 messages, 8 at a time, all answered). Each credential
has its own budget, found without asking authentication who it is: the sha256 of the raw `X-API-Key` value and of
the `Authorization: Bearer` value. A request carrying both is charged to both, so pairing a valid key with a fresh
made-up one never buys a fresh budget, whichever of the two authentication believes. A request with neither is
charged to its client address (behind a proxy, uvicorn's FORWARDED_ALLOW_IPS makes that the real client).

It is a pure ASGI middleware rather than a FastAPI dependency so a refused request costs nothing: FastAPI reads
and parses a body before any dependency runs, and this answers before the body is read, the route is matched or
the caller is authenticated. Health (`/healthz`, `/readyz`) and the OpenAPI pages sit outside the prefix.
Counters live in `settings.rate_limit_storage`: memory:// per worker, redis://… shared by workers and hosts. The
moving window makes Retry-After exact: a caller who waits that long is let through. A storage that cannot be
reached answers 503 rather than letting every request through unlimited.
"""

from __future__ import annotations

import hashlib
import math
import time

import anyio.to_thread
from limits import RateLimitItem, parse_many
from limits.errors import ConfigurationError, StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.logs import get_logger
from app.settings import Settings

NAMESPACE = "supportflow-http"  # the first part of every counter's key, so a shared Redis keeps ours apart
_log = get_logger("http")


class RateLimitConfigError(ValueError):
    """SUPPORT_RATE_LIMIT or SUPPORT_RATE_LIMIT_STORAGE cannot be used: the server does not start."""


def callers(scope: Scope) -> list[str]:
    """Whose budgets a request is charged to: each credential it carries (hashed), else its client address."""
    headers = Headers(scope=scope)
    found = [headers.get("x-api-key", "").strip()]
    authorization = headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        found.append(authorization[7:].strip())
    keys = [f"key:{hashlib.sha256(c.encode()).hexdigest()}" for c in dict.fromkeys(found) if c]
    client = scope.get("client")
    return keys or [f"ip:{client[0] if client else 'unknown'}"]


class Budgets:
    """The configured limits over one storage; `charge` spends one request of each caller's budget."""

    def __init__(self, items: list[RateLimitItem], storage_uri: str) -> None:
        self.items = items
        try:
            self.storage = storage_from_string(storage_uri, wrap_exceptions=True)
        except ConfigurationError as exc:
            raise RateLimitConfigError(f"SUPPORT_RATE_LIMIT_STORAGE={storage_uri!r}: {exc}") from None
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.blocking = not isinstance(self.storage, MemoryStorage)  # a network round trip: not on the event loop

    def charge(self, who: list[str]) -> tuple[RateLimitItem, int] | None:
        """None when every budget had room; else the limit that was reached and the whole seconds until it has."""
        for caller in who:
            for item in self.items:
                if not self.limiter.hit(item, NAMESPACE, caller):
                    reset = self.limiter.get_window_stats(item, NAMESPACE, caller).reset_time
                    return item, max(1, math.ceil(reset - time.time()))
        return None


def budgets_from(settings: Settings) -> Budgets | None:
    """The budgets `settings` ask for (None: `rate_limit` is empty, no limit); RateLimitConfigError naming what is
    wrong, so a typo stops the server at start rather than leaving it unlimited."""
    spec = settings.rate_limit.strip()
    if not spec:
        return None
    try:
        items = parse_many(spec)
    except ValueError as exc:
        raise RateLimitConfigError(f"SUPPORT_RATE_LIMIT={spec!r}: {exc}; expected e.g. '120/minute' or "
                                   "'120/minute;10/second', or empty for no limit") from None
    if any(item.amount < 1 for item in items):
        raise RateLimitConfigError(f"SUPPORT_RATE_LIMIT={spec!r}: a limit of 0 refuses every request; leave it "
                                   "empty for no limit")
    return Budgets(items, settings.rate_limit_storage)


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, budgets: Budgets, prefix: str) -> None:
        self.app, self.budgets, self.prefix = app, budgets, prefix.rstrip("/")

    def _covers(self, scope: Scope) -> bool:
        if scope["type"] != "http":  # lifespan events have no path, and there are no websocket routes
            return False
        return scope["path"] == self.prefix or scope["path"].startswith(self.prefix + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._covers(scope):
            await self.app(scope, receive, send)
            return
        who = callers(scope)
        try:
            if self.budgets.blocking:
                over = await anyio.to_thread.run_sync(self.budgets.charge, who)
            else:
                over = self.budgets.charge(who)
        except StorageError as exc:
            _log.warning("rate-limit storage unavailable: %s", exc.storage_error)
            refusal = JSONResponse({"error": "rate limiter unavailable, retry shortly"}, status_code=503,
                                   headers={"Retry-After": "2"})
            await refusal(scope, receive, send)
            return
        if over is None:
            await self.app(scope, receive, send)
            return
        item, wait = over
        whose = "this key" if who[0].startswith("key:") else "this address"
        refusal = JSONResponse({"error": f"rate limit exceeded: {item} for {whose}; retry in {wait} s"},
                               status_code=429, headers={"Retry-After": str(wait)})
        await refusal(scope, receive, send)
