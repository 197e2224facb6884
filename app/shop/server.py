"""The sample shop served over MCP (stdio or streamable HTTP, the official SDK's FastMCP) and a plain REST/JSON API.

One set of operations, two doors: MCP tools for MCP clients, `POST /api/{operation}` for HTTP connectors (the
customer in `X-Customer-Id`, the key in `Idempotency-Key`). A business refusal is a normal result (`ok: false`);
only a failure of the system itself is an MCP tool error or an HTTP 5xx, which the desk retries.

Faults can be injected from the environment (`SHOP_FAIL_RATE`, `SHOP_FAIL_AFTER_RATE`, `SHOP_FAIL_SEED`,
`SHOP_LATENCY_MS`) so tests and `bench actions` see a system that is down, or one that acts and then loses its
answer.
"""

from __future__ import annotations

import hmac
import json
import os
import random
import time
from pathlib import Path
from typing import Any

from app.shop.ledger import Ledger

READS = ("lookup_customer", "list_orders", "get_order")
WRITES = ("refund", "cancel_order", "update_contact")


class InjectedFault(RuntimeError):
    """The shop pretends to be down (before acting) or to have lost its answer (after acting)."""


class Faults:
    def __init__(self, env: dict[str, str] | None = None):
        env = dict(os.environ if env is None else env)
        self.before = float(env.get("SHOP_FAIL_RATE") or 0)
        self.after = float(env.get("SHOP_FAIL_AFTER_RATE") or 0)
        self.latency = float(env.get("SHOP_LATENCY_MS") or 0) / 1000
        seed = env.get("SHOP_FAIL_SEED")
        self.rng = random.Random(int(seed)) if seed else random.Random()

    def call(self, operation: str, run) -> dict:
        if self.latency:
            time.sleep(self.latency)
        if self.before and self.rng.random() < self.before:
            raise InjectedFault(f"the shop is unavailable (injected failure before {operation})")
        result = run()
        if operation in WRITES and result.get("ok") and self.after and self.rng.random() < self.after:
            raise InjectedFault(f"the shop lost its answer (injected failure after {operation} committed)")
        return result


class Shop:
    """The operations, each one call on the ledger behind the fault injector."""

    def __init__(self, db: str | Path, faults: Faults | None = None):
        self.ledger, self.faults = Ledger(db), faults or Faults()

    def call(self, operation: str, customer_id: str, args: dict[str, Any]) -> dict:
        if operation not in READS + WRITES:
            raise KeyError(operation)
        method = getattr(self.ledger, operation)
        return self.faults.call(operation, lambda: method(customer_id, **args))


def mcp_server(shop: Shop, host: str = "127.0.0.1", port: int = 8765):
    """The FastMCP server: one tool per operation, the verified customer as an argument of each."""
    from mcp.server.fastmcp import FastMCP

    mcp = FastMCP("brightwave-shop", host=host, port=port, log_level="WARNING",
                  instructions="Brightwave's sample system of record: customers, orders, refunds, cancellations.")

    @mcp.tool(annotations={"readOnlyHint": True})
    def lookup_customer(customer_id: str) -> dict:
        """The customer's account: name, email, tier, verified."""
        return shop.call("lookup_customer", customer_id, {})

    @mcp.tool(annotations={"readOnlyHint": True})
    def list_orders(customer_id: str) -> dict:
        """The customer's orders, newest first."""
        return shop.call("list_orders", customer_id, {})

    @mcp.tool(annotations={"readOnlyHint": True})
    def get_order(customer_id: str, order_id: str) -> dict:
        """One of the customer's orders: status, dates, items, total, refunded, refundable, carrier, tracking."""
        return shop.call("get_order", customer_id, {"order_id": order_id})

    @mcp.tool(annotations={"destructiveHint": True, "idempotentHint": True})
    def refund(customer_id: str, order_id: str, amount: float, currency: str, idempotency_key: str) -> dict:
        """Refund part or all of what was paid for an order, once per idempotency key."""
        return shop.call("refund", customer_id, {"order_id": order_id, "amount": amount, "currency": currency,
                                                 "idempotency_key": idempotency_key})

    @mcp.tool(annotations={"destructiveHint": True, "idempotentHint": True})
    def cancel_order(customer_id: str, order_id: str, idempotency_key: str) -> dict:
        """Cancel an order that has not shipped; what was paid goes back. Once per idempotency key."""
        return shop.call("cancel_order", customer_id, {"order_id": order_id, "idempotency_key": idempotency_key})

    @mcp.tool(annotations={"destructiveHint": True, "idempotentHint": True})
    def update_contact(customer_id: str, field: str, value: str, idempotency_key: str) -> dict:
        """Change the customer's email, phone, name or address. Once per idempotency key."""
        return shop.call("update_contact", customer_id, {"field": field, "value": value,
                                                         "idempotency_key": idempotency_key})

    return mcp


def http_app(shop: Shop, token: str | None = None):
    """The streamable-HTTP MCP endpoint at /mcp, the REST API at /api/{operation} and /healthz, in one app."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    mcp = mcp_server(shop)

    @mcp.custom_route("/healthz", methods=["GET"])
    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    @mcp.custom_route("/api/{operation}", methods=["POST"])
    async def api(request: Request) -> JSONResponse:
        operation = request.path_params["operation"]
        customer = request.headers.get("x-customer-id")
        if operation not in READS + WRITES:
            return JSONResponse({"detail": f"unknown operation {operation!r}"}, status_code=404)
        if not customer:
            return JSONResponse({"detail": "X-Customer-Id is required"}, status_code=400)
        try:
            args = json.loads(await request.body() or b"{}")
        except json.JSONDecodeError:
            return JSONResponse({"detail": "the body must be a JSON object"}, status_code=400)
        if not isinstance(args, dict):
            return JSONResponse({"detail": "the body must be a JSON object"}, status_code=400)
        if operation in WRITES:
            key = request.headers.get("idempotency-key")
            if not key:
                return JSONResponse({"detail": "Idempotency-Key is required for a write"}, status_code=400)
            args["idempotency_key"] = key
        try:
            result = shop.call(operation, customer, args)
        except InjectedFault as exc:
            return JSONResponse({"detail": str(exc)}, status_code=503)
        except TypeError as exc:  # missing or unknown arguments
            return JSONResponse({"detail": f"bad arguments: {exc}"}, status_code=400)
        return JSONResponse(result, status_code=200 if result.get("ok") else 422)

    app = mcp.streamable_http_app()
    return BearerGate(app, token) if token else app


class BearerGate:
    """Every request needs `Authorization: Bearer <token>` (SHOP_API_TOKEN), except the health check."""

    def __init__(self, app, token: str):
        self.app, self.expected = app, f"Bearer {token}".encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("path") != "/healthz":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": b'{"detail": "a valid bearer token is required"}'})
                return
        await self.app(scope, receive, send)


def serve(db: str | Path, transport: str = "stdio", host: str = "127.0.0.1", port: int = 8765) -> None:
    shop = Shop(db)
    if transport == "stdio":
        mcp_server(shop).run("stdio")
        return
    import uvicorn

    uvicorn.run(http_app(shop, os.environ.get("SHOP_API_TOKEN") or None), host=host, port=port, log_level="warning")
