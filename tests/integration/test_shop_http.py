"""The sample shop over real HTTP: MCP streamable HTTP (at /mcp) through the desk's own MCP client, the REST API
through the desk's HTTP client and through raw httpx (bearer token, status codes), and injected faults read as
`unavailable` after the connector's retries. A real server process on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from app.connectors.registry import Registry
from app.connectors.systems import Systems
from tests.helpers import ROOT
from tests.integration.test_actions import seed

pytestmark = pytest.mark.slow
TOKEN = "test-shop-token"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(db, env_extra: dict[str, str]):
    port = _port()
    env = {**os.environ, "SHOP_API_TOKEN": TOKEN, **env_extra}
    proc = subprocess.Popen([sys.executable, "-m", "app.shop", "serve", "--transport", "http", "--port", str(port),
                             "--db", str(db)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(proc.stderr.read().decode()[-2000:])


@pytest.fixture
def served(tmp_path):
    seed(tmp_path / "shop.db")
    procs = []

    def start(**env):
        proc, url = _serve(tmp_path / "shop.db", env)
        procs.append(proc)
        return url

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)


def _systems(kind: str, url: str) -> Systems:
    ops = {"get_order": {"kind": "read", "connector": "shop", "input": {"order_id": "str"}, "retries": 1},
           "refund": {"kind": "write", "connector": "shop", "input": {"order_id": "str", "amount": "float",
                                                                       "currency": "str"},
                      "idempotency": {"argument": "idempotency_key"} if kind == "mcp" else
                      {"header": "Idempotency-Key"}, "retries": 1}}
    conn = ({"kind": "mcp", "transport": "streamable_http", "url": f"{url}/mcp",
             "headers": {"Authorization": f"Bearer {TOKEN}"}, "customer": {"argument": "customer_id"}}
            if kind == "mcp" else
            {"kind": "http", "url": f"{url}/api", "headers": {"Authorization": f"Bearer {TOKEN}"},
             "customer": {"header": "X-Customer-Id"}})
    registry = Registry.model_validate({"version": 1, "connectors": {"shop": conn}, "operations": ops})
    return Systems(registry, "live", {}, backoff=0.01)


@pytest.mark.parametrize("kind", ["mcp", "http"])
def test_a_refund_over_each_transport_acts_once(served, kind):
    systems = _systems(kind, served())
    try:
        first = systems.write("refund", {"order_id": "BW-50001", "amount": 40.0, "currency": "USD"}, "cu-a", "k1")
        again = systems.write("refund", {"order_id": "BW-50001", "amount": 40.0, "currency": "USD"}, "cu-a", "k1")
        assert first["ok"] and again["ok"] and again.get("replayed"), (first, again)
        assert systems.read("get_order", {"order_id": "BW-50001"}, "cu-a")["order"]["refunded"] == 40.0
        assert not systems.read("get_order", {"order_id": "BW-60001"}, "cu-a")["ok"]  # cu-b's order
    finally:
        systems.close()


def test_the_rest_api_needs_the_token_and_says_what_went_wrong(served):
    url = served()
    body = {"order_id": "BW-50001"}
    assert httpx.post(f"{url}/api/get_order", json=body, headers={"X-Customer-Id": "cu-a"}).status_code == 401
    auth = {"Authorization": f"Bearer {TOKEN}", "X-Customer-Id": "cu-a"}
    assert httpx.post(f"{url}/api/get_order", json=body, headers=auth).json()["ok"]
    missing = httpx.post(f"{url}/api/get_order", json={"order_id": "NOPE-1"}, headers=auth)
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "not_found"
    assert httpx.post(f"{url}/api/drop_tables", json={}, headers=auth).status_code == 404
    assert httpx.post(f"{url}/api/refund", json={"order_id": "BW-50001", "amount": 1, "currency": "USD"},
                      headers=auth).status_code in (400, 422)  # no Idempotency-Key


def test_a_shop_that_always_fails_reads_as_unavailable_and_moves_no_money(served):
    systems = _systems("http", served(SHOP_FAIL_RATE="1"))
    try:
        result = systems.write("refund", {"order_id": "BW-50001", "amount": 40.0, "currency": "USD"}, "cu-a", "k2")
        assert result == {"ok": False, "unavailable": True, "error": result["error"]}
    finally:
        systems.close()
