"""The HTTP limits at the ASGI level, on the real application (#25): a body over the limit is refused before the
application reads it, an endless chunked body is stopped at the limit, and each credential has its own budget.

Driven by plain ASGI calls (no server, no lifespan): the desk never starts, and none of this needs it. Over real
HTTP: tests/system/test_http_limits.py.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from fastapi import Request

from app.http.api import create_app
from app.http.body_limit import BodyLimitMiddleware
from app.http.rate_limit import RateLimitConfigError, RateLimitMiddleware, budgets_from, callers
from app.settings import Settings


def _settings(**overrides) -> Settings:
    return Settings(**{"offline": True, "max_body_bytes": 1000, "rate_limit": "", **overrides})


def _call(app, path: str, headers: dict[str, str], chunks, method: str = "POST") -> tuple[int, dict, dict, int]:
    """(status, headers, JSON body, chunks the application pulled) for one request whose body is `chunks`."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("203.0.113.7", 5000), "server": ("127.0.0.1", 80)}
    pulled, sent = 0, []
    source = iter(chunks)

    async def receive():
        nonlocal pulled
        chunk = next(source, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, json.loads(body), pulled


def _endless():
    while True:
        yield b"x" * 300


def test_a_declared_length_over_the_limit_is_refused_before_anything_is_read():
    status, headers, body, pulled = _call(create_app(_settings()), "/v1/messages", {"content-length": "100000000"},
                                          _endless())
    assert (status, pulled) == (413, 0)
    assert body == {"error": "request body too large: the limit is 1000 bytes"}
    assert headers["connection"] == "close"


def test_an_endless_chunked_body_is_stopped_as_soon_as_it_passes_the_limit():
    status, headers, body, pulled = _call(create_app(_settings()), "/v1/messages",
                                          {"content-type": "application/json"}, _endless())
    assert status == 413 and body["error"] == "request body too large: the limit is 1000 bytes"
    assert pulled == 4  # 1,200 bytes: the first chunk past 1,000, and not one more
    assert headers["connection"] == "close"


def test_a_body_within_the_limit_reaches_the_route_whole():
    app = create_app(_settings())

    @app.post("/v1/echo")
    async def echo(request: Request) -> dict:
        return {"bytes": len(await request.body())}

    assert _call(app, "/v1/echo", {"content-length": "1000"}, [b"x" * 1000])[2] == {"bytes": 1000}
    assert _call(app, "/v1/echo", {}, [b"x" * 500, b"x" * 500])[2] == {"bytes": 1000}  # chunked, at the limit


def test_each_credential_has_its_own_budget_and_health_has_none():
    app = create_app(_settings(rate_limit="2/minute"))

    @app.get("/v1/probe")  # a route that needs no desk: the budget is charged before any route runs
    def probe() -> dict:
        return {}

    a, b = {"x-api-key": "key-a"}, {"authorization": "Bearer key-b"}
    assert [_call(app, "/v1/probe", a, [], "GET")[0] for _ in range(3)] == [200, 200, 429]
    status, headers, body, _ = _call(app, "/v1/probe", a, [], "GET")
    assert status == 429 and 1 <= int(headers["retry-after"]) <= 60
    assert body["error"].startswith("rate limit exceeded: 2 per 1 minute for this key; retry in ")
    assert _call(app, "/v1/probe", b, [], "GET")[0] == 200  # another key: its own budget
    # a made-up second credential buys no fresh budget for a spent one
    assert _call(app, "/v1/probe", {**a, "authorization": "Bearer fresh"}, [], "GET")[0] == 429
    assert [_call(app, "/v1/probe", {}, [], "GET")[0] for _ in range(3)] == [200, 200, 429]  # no key: per address
    assert _call(app, "/healthz", a, [], "GET")[0] == 200


def test_callers_are_hashed_credentials_or_the_client_address():
    def who(headers):
        return callers({"type": "http", "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
                        "client": ("198.51.100.4", 1)})

    assert who({"authorization": "Bearer s3cret"}) == who({"authorization": "bearer  s3cret "}) \
        == who({"x-api-key": "s3cret"})
    assert who({"authorization": "Bearer s3cret"})[0].startswith("key:") and "s3cret" not in str(who(
        {"authorization": "Bearer s3cret"}))
    assert len(who({"x-api-key": "a", "authorization": "Bearer b"})) == 2
    assert who({}) == who({"authorization": "Basic Zm9vOmJhcg=="}) == ["ip:198.51.100.4"]


@pytest.mark.parametrize(("overrides", "match"), [
    ({"rate_limit": "lots"}, "SUPPORT_RATE_LIMIT='lots'"),
    ({"rate_limit": "0/minute"}, "refuses every request"),
    ({"rate_limit_storage": "nosuch://x"}, "SUPPORT_RATE_LIMIT_STORAGE='nosuch://x'"),
])
def test_a_bad_rate_limit_setting_is_a_clear_error(overrides, match):
    with pytest.raises(RateLimitConfigError, match=match):
        create_app(_settings(**{"rate_limit": "5/minute", **overrides}))


def test_an_empty_rate_limit_is_no_limit():
    assert budgets_from(_settings(rate_limit=" ")) is None
    assert budgets_from(_settings(rate_limit="120/minute;10/second")).items[1].amount == 10


def test_a_caller_who_waits_retry_after_is_let_through():
    app = create_app(_settings(rate_limit="1/second"))

    @app.get("/v1/probe")
    def probe() -> dict:
        return {}

    key = {"x-api-key": "patient"}
    assert _call(app, "/v1/probe", key, [], "GET")[0] == 200
    status, headers, _, _ = _call(app, "/v1/probe", key, [], "GET")
    assert status == 429 and headers["retry-after"] == "1"
    time.sleep(int(headers["retry-after"]))
    assert _call(app, "/v1/probe", key, [], "GET")[0] == 200



def test_lifespan_events_pass_both_middlewares():
    """They carry no path: a middleware that read one kept uvicorn from ever starting the desk."""
    seen = []

    async def inner(scope, receive, send):
        seen.append(scope["type"])

    app = BodyLimitMiddleware(RateLimitMiddleware(inner, budgets_from(_settings(rate_limit="5/minute")), "/v1"), 10)
    asyncio.run(app({"type": "lifespan", "asgi": {"version": "3.0"}}, None, None))
    assert seen == ["lifespan"]


def test_bench_serve_gives_its_one_key_room_for_every_request_a_run_sends():
    from app.bench import serve

    (item,) = budgets_from(_settings(rate_limit=serve.RATE_LIMIT)).items
    busiest = len(serve.QUESTIONS) * 6 * 4 + 200  # the LLM server of a default run: 4 workers warmed, 200 sent
    assert item.amount * 60 / item.get_expiry() >= 10 * busiest


def test_an_unreachable_counter_store_refuses_rather_than_serving_without_limits():
    app = create_app(_settings(rate_limit="5/minute", rate_limit_storage="redis://127.0.0.1:1"))  # nothing listens
    status, headers, body, _ = _call(app, "/v1/threads/x", {"x-api-key": "k"}, [], "GET")
    assert (status, headers["retry-after"], body) == (503, "2", {"error": "rate limiter unavailable, retry shortly"})
    assert _call(app, "/healthz", {}, [], "GET")[0] == 200
