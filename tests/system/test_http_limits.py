"""The HTTP limits of #25 over real HTTP, on `python -m app serve` processes: a 100 MB unauthenticated upload is
refused before it is read (the server's memory does not move), and each key's request budget ends in 429 with
Retry-After, in one worker's memory or shared by two servers through Redis."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest

from agents.compliance.reviewers import hash_token
from tests.helpers import ROOT, free_port, server

pytestmark = pytest.mark.slow
REDIS = "redis://127.0.0.1:6379"
MB = 1_000_000


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


def _ready(url: str):
    def check():
        if httpx.get(f"{url}/readyz", timeout=2).status_code != 200:
            raise RuntimeError("not ready")
    return check


@contextmanager
def serving(tmp_path: Path, data_dir: Path, keys: dict[str, str], name: str = "api", **env: str):
    """`python -m app serve` on a free port with channel keys {id: secret}; yields its URL once it is ready."""
    port = free_port()
    full = {**{k: v for k, v in os.environ.items() if k != "SUPPORT_DATABASE_URL"}, "SUPPORT_OFFLINE": "true",
            "SUPPORT_DATA_DIR": str(data_dir),
            "SUPPORT_API_KEYS": ",".join(f"{cid}={hash_token(secret)}" for cid, secret in keys.items()), **env}
    url = f"http://127.0.0.1:{port}"
    with server([sys.executable, "-m", "app", "serve", "--port", str(port)], ROOT, full, tmp_path / f"{name}.log",
                _ready(url), name):
        yield url


def _auth(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def _chunks(body: bytes, size: int = 1 << 16):
    view = memoryview(body)
    for i in range(0, len(body), size):
        yield bytes(view[i:i + size])


def test_a_100_mb_unauthenticated_upload_is_refused_at_once_and_costs_the_server_no_memory(data_dir, tmp_path):
    with serving(tmp_path, data_dir, {"web": "web-secret"}) as url, httpx.Client(base_url=url, timeout=60) as c:
        worker = psutil.Process(c.get("/readyz").json()["worker"])
        ok = c.post("/v1/messages", headers=_auth("web-secret"), json={"message": "How do I reset my password?"})
        assert ok.status_code == 200 and ok.json()["outcome"] == "answered"
        before = worker.memory_info().rss
        big = b"x" * (100 * MB)

        def upload(chunked: bool) -> tuple[int, str, float]:
            start = time.perf_counter()
            r = httpx.post(f"{url}/v1/messages", content=_chunks(big) if chunked else big, timeout=60,
                           headers={"Content-Type": "application/json"})
            return r.status_code, r.json()["error"], time.perf_counter() - start

        with ThreadPoolExecutor(4) as pool:  # four at once reached 1.2 GB before
            results = list(pool.map(upload, [False, True, False, True]))
        grown = worker.memory_info().rss - before
        for status, error, seconds in results:
            assert status == 413 and error == "request body too large: the limit is 1000000 bytes"
            assert seconds < 10, results
        assert grown < 10 * MB, f"the server grew by {grown / MB:.1f} MB"
        # what is within the limit still works, and health never looks at bodies
        assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200
        again = c.post("/v1/messages", headers=_auth("web-secret"), json={"message": "Where is my parcel?"})
        assert again.status_code == 200
        assert c.post("/v1/messages", json={"message": "x" * 1000}).status_code == 401  # small: on to auth


def test_a_key_over_its_budget_gets_429_with_retry_after_and_other_keys_do_not(data_dir, tmp_path):
    keys = {"web": "web-secret", "email": "email-secret"}
    with serving(tmp_path, data_dir, keys, SUPPORT_RATE_LIMIT="5/minute") as url, \
            httpx.Client(base_url=url, timeout=60) as c:
        assert [c.get("/v1/threads/nope", headers=_auth("web-secret")).status_code for _ in range(5)] == [404] * 5
        for method, path in (("get", "/v1/threads/nope"), ("post", "/v1/messages"), ("get", "/v1/reviews")):
            limited = getattr(c, method)(path, headers=_auth("web-secret"))
            assert limited.status_code == 429, (path, limited.text)
            assert 1 <= int(limited.headers["Retry-After"]) <= 60
            assert limited.json()["error"].startswith("rate limit exceeded: 5 per 1 minute for this key")
        assert c.get("/v1/threads/nope", headers={"X-API-Key": "email-secret"}).status_code == 404
        assert c.get("/healthz").status_code == 200 and c.get("/readyz").status_code == 200


@pytest.mark.skipif(not _redis_up(), reason="Redis not reachable on 127.0.0.1:6379")
def test_two_servers_sharing_redis_share_each_keys_budget(data_dir, tmp_path):
    import redis

    secret, other = f"shared-{uuid.uuid4().hex}", f"other-{uuid.uuid4().hex}"  # fresh keys: fresh counters
    shutil.copytree(data_dir, tmp_path / "b")
    env = {"SUPPORT_RATE_LIMIT": "5/minute", "SUPPORT_RATE_LIMIT_STORAGE": REDIS}
    client = redis.Redis.from_url(REDIS)
    ours = [f"LIMITS:LIMITER/supportflow-http/key:{hashlib.sha256(k.encode()).hexdigest()}/*" for k in (secret, other)]
    try:
        with serving(tmp_path, data_dir, {"web": secret, "email": other}, "a", **env) as url_a, \
                serving(tmp_path, tmp_path / "b", {"web": secret, "email": other}, "b", **env) as url_b, \
                httpx.Client(timeout=60) as c:
            codes = [c.get(f"{url}/v1/threads/nope", headers=_auth(secret)).status_code
                     for url in (url_a, url_b, url_a, url_b, url_a)]
            assert codes == [404] * 5
            for url in (url_b, url_a):  # five spent across both: neither server lets a sixth through
                limited = c.get(f"{url}/v1/threads/nope", headers=_auth(secret))
                assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
            assert c.get(f"{url_b}/v1/threads/nope", headers=_auth(other)).status_code == 404
            assert list(client.scan_iter(ours[0])), "the counters are not in Redis"
    finally:
        for pattern in ours:  # only this test's counters: Redis may be shared
            for key in client.scan_iter(pattern):
                client.delete(key)


def test_a_bad_rate_limit_stops_the_server_at_start_and_says_why(tmp_path):
    env = {**os.environ, "SUPPORT_OFFLINE": "true", "SUPPORT_DATA_DIR": str(tmp_path), "SUPPORT_RATE_LIMIT": "lots"}
    done = subprocess.run([sys.executable, "-m", "app", "serve", "--port", str(free_port())], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode != 0
    assert "SUPPORT_RATE_LIMIT='lots'" in done.stdout + done.stderr
