"""The two connector kinds, each on a maintained client: MCP (the official SDK through langchain-mcp-adapters, over
stdio or streamable HTTP) and HTTP/JSON (httpx).

Both answer one thing: the system's JSON result, or `Unavailable` when the system did not answer usefully (down,
timed out, a 5xx, an MCP tool error). A business refusal (`{"ok": false, "error": ...}`) is a result, not an
exception: retrying it would not change it.

The MCP session is held open (`client.session(...)` inside an anyio blocking portal, a loop on its own thread),
because the adapters would otherwise start a new session, and for stdio a new server process, on every call. A
broken session (the server died) is dropped and opened again on the next attempt.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import timedelta
from typing import Any

import httpx

from app.connectors.registry import Connector


class Unavailable(RuntimeError):
    """The system did not answer usefully; the call may be retried with the same idempotency key."""


def expand(text: str, values: dict[str, str]) -> str:
    """`{python}`, `{data_dir}`, `{shop_db}` from the desk, then `$VARS` from the environment (secrets)."""
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return os.path.expandvars(text)


def _json_result(payload: Any) -> dict:
    if isinstance(payload, dict) and set(payload) == {"result"} and isinstance(payload["result"], dict):
        payload = payload["result"]  # FastMCP wraps some return types as {"result": ...}
    if not isinstance(payload, dict) or "ok" not in payload:
        raise Unavailable(f"the system answered something that is not a result: {str(payload)[:200]}")
    return payload


class MCPClient:
    """One MCP server, its session held open across calls."""

    def __init__(self, name: str, spec: Connector, values: dict[str, str]):
        self.name, self.spec, self.values = name, spec, values
        self._lock = threading.Lock()
        self._portal_cm = self._portal = self._session_cm = self._session = None

    def _connection(self) -> dict:
        spec = self.spec
        if spec.transport == "stdio":
            command = [expand(part, self.values) for part in spec.command or []]
            env = {k: expand(v, self.values) for k, v in spec.env.items()}
            return {"transport": "stdio", "command": command[0], "args": command[1:], "env": {**os.environ, **env}}
        return {"transport": "streamable_http", "url": expand(spec.url or "", self.values),
                "headers": {k: expand(v, self.values) for k, v in spec.headers.items()}}

    def _open(self):
        from anyio.from_thread import start_blocking_portal
        from langchain_mcp_adapters.client import MultiServerMCPClient

        if self._portal is None:
            self._portal_cm = start_blocking_portal()
            self._portal = self._portal_cm.__enter__()
        client = MultiServerMCPClient({self.name: self._connection()})
        self._session_cm = self._portal.wrap_async_context_manager(client.session(self.name))
        self._session = self._session_cm.__enter__()
        return self._session

    def _drop(self) -> None:
        cm, self._session_cm, self._session = self._session_cm, None, None
        if cm is not None:
            try:
                cm.__exit__(None, None, None)
            except Exception:  # noqa: BLE001 - the session is already broken; a new one replaces it
                pass

    def call(self, tool: str, args: dict[str, Any], headers: dict[str, str], timeout: float) -> dict:
        with self._lock:  # one call at a time on the held session keeps stdio servers simple and ordered
            try:
                session = self._session or self._open()
                result = self._portal.call(lambda: session.call_tool(
                    tool, args, read_timeout_seconds=timedelta(seconds=timeout)))
            except Exception as exc:  # noqa: BLE001 - transport, timeout, a dead server: all mean "try again"
                self._drop()
                raise Unavailable(f"{self.name}: {type(exc).__name__}: {exc}"[:300]) from exc
        text = "".join(getattr(c, "text", "") for c in result.content or [])
        if result.isError:
            raise Unavailable(f"{self.name}.{tool} failed: {text[:200]}")
        if result.structuredContent is not None:
            return _json_result(result.structuredContent)
        try:
            return _json_result(json.loads(text))
        except json.JSONDecodeError as exc:
            raise Unavailable(f"{self.name}.{tool} answered no JSON: {text[:200]}") from exc

    def close(self) -> None:
        with self._lock:
            self._drop()
            if self._portal_cm is not None:
                self._portal_cm.__exit__(None, None, None)
                self._portal_cm = self._portal = None


class HTTPClient:
    """A JSON API: POST {url}/{tool}; 2xx and 4xx carry a result, 5xx and transport errors are Unavailable."""

    def __init__(self, name: str, spec: Connector, values: dict[str, str]):
        self.name, self.spec = name, spec
        self.base = expand(spec.url or "", values).rstrip("/")
        self.headers = {k: expand(v, values) for k, v in spec.headers.items()}
        self._client = httpx.Client(headers=self.headers)

    def call(self, tool: str, args: dict[str, Any], headers: dict[str, str], timeout: float) -> dict:
        try:
            response = self._client.post(f"{self.base}/{tool}", json=args, headers=headers, timeout=timeout)
        except httpx.HTTPError as exc:
            raise Unavailable(f"{self.name}: {type(exc).__name__}: {exc}"[:300]) from exc
        if response.status_code >= 500 or response.status_code in (401, 403, 404, 408, 429):
            raise Unavailable(f"{self.name}.{tool}: HTTP {response.status_code}")
        try:
            return _json_result(response.json())
        except ValueError as exc:
            raise Unavailable(f"{self.name}.{tool}: HTTP {response.status_code} without a JSON result") from exc

    def close(self) -> None:
        self._client.close()


def make_client(name: str, spec: Connector, values: dict[str, str]) -> MCPClient | HTTPClient:
    return MCPClient(name, spec, values) if spec.kind == "mcp" else HTTPClient(name, spec, values)
