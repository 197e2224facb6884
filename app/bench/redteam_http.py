"""Red-team probes of the HTTP service's limits (#25): bodies too large to read and callers over their budget.

Each probe serves the real application (`create_app` on the run's data directory) under uvicorn on a free
loopback port, so bodies are framed as a client frames them: a declared Content-Length with no body sent yet, and
a chunked body with none declared. Each has a server of its own, so one probe's spent budget cannot make another
look held. The `check_*` functions take a server's URL, so a test can point them at a server without limits and
see them fail.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlsplit

import httpx

from app.bench import NO_SYSTEMS
from app.bench.redteam_probes import Ctx, check

KEY_A, KEY_B = "redteam-key-a", "redteam-key-b"
LIMIT = 5  # requests per minute per key on the probes' servers
MAX_BODY = 1_000_000


@contextmanager
def served(ctx: Ctx, **overrides) -> Iterator[str]:
    """The application on a free 127.0.0.1 port, with two channel keys and a small budget; yields its URL."""
    from agents.compliance.reviewers import hash_token
    from app.bench.serve import in_thread  # deferred: only these probes serve
    from app.http.api import create_app
    from app.settings import Settings

    settings = Settings(**{**NO_SYSTEMS, "data_dir": ctx.data_dir, "offline": True, "rate_limit": f"{LIMIT}/minute",
                           "rate_limit_storage": "memory://", "max_body_bytes": MAX_BODY,
                           "api_keys": f"rt-a={hash_token(KEY_A)},rt-b={hash_token(KEY_B)}", **overrides})
    with in_thread(create_app(settings, warm_in_background=False)) as url:
        yield url


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# ---- bodies ---------------------------------------------------------------------------------------------------
def check_declared_body(url: str) -> None:
    """100 MB declared, no credentials, not one byte of body sent: the answer must come anyway, and be 413."""
    where = urlsplit(url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    try:
        conn.putrequest("POST", "/v1/messages")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(100 * MAX_BODY))
        conn.endheaders()
        try:
            r = conn.getresponse()
        except TimeoutError:
            check(False, "the server waited for the 100 MB body instead of refusing it")
        status, body = r.status, r.read().decode()
    finally:
        conn.close()
    check(status == 413 and "too large" in body, f"{status}: {body[:200]}")


def check_chunked_body(url: str) -> None:
    """A chunked body with no length declared, 50 MB on offer: 413, and the server stopped reading early."""
    offered = 0

    def chunks() -> Iterator[bytes]:
        nonlocal offered
        while offered < 50 * MAX_BODY:
            offered += 1 << 16
            yield b"x" * (1 << 16)

    r = httpx.post(f"{url}/v1/messages", content=chunks(), headers={"Content-Type": "application/json"}, timeout=30)
    check(r.status_code == 413 and "too large" in r.text, f"{r.status_code}: {r.text[:200]}")
    check(offered < 20 * MAX_BODY, f"the client got to send {offered} bytes before the refusal")


def oversized_body_before_auth(ctx: Ctx) -> None:
    with served(ctx) as url:
        check_declared_body(url)


def chunked_oversized_body(ctx: Ctx) -> None:
    with served(ctx) as url:
        check_chunked_body(url)


# ---- budgets --------------------------------------------------------------------------------------------------
def check_burst(url: str) -> None:
    """Twelve messages on one key, eight at a time: LIMIT answered, the rest 429 with Retry-After in seconds."""
    def send(i: int) -> httpx.Response:
        return httpx.post(f"{url}/v1/messages", headers=_bearer(KEY_A), timeout=120,
                          json={"message": "How do I reset my password?", "message_id": f"burst-{i}"})

    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(send, range(12)))
    codes = sorted(r.status_code for r in replies)
    check(codes == [200] * LIMIT + [429] * (12 - LIMIT), codes)
    for r in (r for r in replies if r.status_code == 429):
        wait = r.headers.get("Retry-After", "")
        check(wait.isdigit() and 1 <= int(wait) <= 60, f"Retry-After {wait!r}")
        check(r.json()["error"].startswith("rate limit exceeded"), r.text[:200])


def check_other_key(url: str) -> None:
    """Key A spent: key B still gets its ordinary answer (404 for a thread that does not exist), A still 429."""
    with httpx.Client(base_url=url, timeout=60) as c:
        spent = [c.get("/v1/threads/rt-nope", headers=_bearer(KEY_A)).status_code for _ in range(LIMIT + 1)]
        check(spent == [404] * LIMIT + [429], spent)
        other = c.get("/v1/threads/rt-nope", headers={"X-API-Key": KEY_B})
        check(other.status_code == 404, f"key B: {other.status_code} {other.text[:200]}")
        check(c.get("/v1/threads/rt-nope", headers=_bearer(KEY_A)).status_code == 429, "key A's budget came back")
        check(c.get("/healthz").status_code == 200, "health is rate-limited")


def burst_over_the_limit(ctx: Ctx) -> None:
    with served(ctx) as url:
        check_burst(url)


def another_key_unaffected(ctx: Ctx) -> None:
    with served(ctx) as url:
        check_other_key(url)


FAMILY = [
    ("oversized_body_before_auth", oversized_body_before_auth, True),
    ("chunked_oversized_body", chunked_oversized_body, False),
    ("burst_over_the_limit", burst_over_the_limit, True),
    ("another_key_unaffected", another_key_unaffected, False),
]
