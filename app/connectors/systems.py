"""The desk's one door to the company's systems: `Systems.read` and `Systems.write`, by operation name.

Every call is scoped to the verified customer the conversation speaks for (passed as the connector says: an
argument or a header), checked against the operation's declared input, given the operation's timeout, and retried
with exponential backoff on tenacity when the system does not answer (`Unavailable`). A write always carries its
idempotency key, so a retry, or a re-run after a crash, returns the first result instead of acting again.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from app.connectors.clients import HTTPClient, MCPClient, Unavailable, make_client
from app.connectors.registry import Mode, Operation, Registry, load_registry

__all__ = ["Systems", "Unavailable"]
CAREFUL = ("off", "dry_run", "live")  # from the most careful mode to the least


class Systems:
    def __init__(self, registry: Registry, mode: Mode, values: dict[str, str], backoff: float = 0.2):
        self.registry, self.default_mode, self.values, self.backoff = registry, mode, values, backoff
        self._clients: dict[str, MCPClient | HTTPClient] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings) -> Systems:
        values = {"python": sys.executable, "data_dir": str(settings.data_dir.resolve()),
                  "shop_db": str(settings.shop_path.resolve())}
        return cls(load_registry(settings.connectors_file), settings.connectors_mode, values)

    # ---- what the registry says -----------------------------------------------------------------------
    def operation(self, name: str) -> Operation:
        try:
            return self.registry.operations[name]
        except KeyError:
            raise KeyError(f"no operation {name!r} in the connectors file") from None

    def mode(self, operation: str) -> Mode:
        """live, dry_run or off for the connector that serves `operation`: the more careful of the setting and the
        connector's own mode, so `connectors_mode: dry_run` (a shadow run) holds for every connector."""
        op = self.operation(operation)
        own = self.registry.connectors[op.connector].mode or self.default_mode
        return min(own, self.default_mode, key=CAREFUL.index)

    def binding(self, action: str) -> dict[str, Any] | None:
        """{operation, facts, mode} for a desk action the registry carries out; None when none does."""
        bound = self.registry.actions.get(action)
        if bound is None:
            return None
        return {"operation": bound.operation, "facts": bound.facts, "mode": self.mode(bound.operation)}

    def answer(self, intent: str) -> dict[str, Any] | None:
        """{operation, latest, mode} for a question intent answered from a read; None when none is."""
        spec = self.registry.answers.get(intent)
        if spec is None:
            return None
        return {"operation": spec.operation, "latest": spec.latest, "mode": self.mode(spec.operation)}

    def plan(self, operation: str, args: dict[str, Any], customer_id: str, key: str | None = None) -> dict:
        """The exact call `write`/`read` would make (what a dry run records): connector, tool, arguments, headers."""
        op = self.operation(operation)
        conn = self.registry.connectors[op.connector]
        body, headers = dict(op.validate_args(args)), {}
        for passing, value in ((conn.customer, customer_id), (op.idempotency, key)):
            if passing is None or value is None:
                continue
            if passing.argument:
                body[passing.argument] = value
            else:
                headers[passing.header] = value
        return {"connector": op.connector, "operation": operation, "tool": op.tool or operation, "arguments": body,
                "headers": headers, "kind": op.kind}

    # ---- calls ------------------------------------------------------------------------------------------
    def read(self, operation: str, args: dict[str, Any], customer_id: str) -> dict:
        if self.operation(operation).kind != "read":
            raise ValueError(f"{operation} is a write; call write() with an idempotency key")
        return self._call(self.plan(operation, args, customer_id))

    def write(self, operation: str, args: dict[str, Any], customer_id: str, key: str) -> dict:
        if self.operation(operation).kind != "write":
            raise ValueError(f"{operation} is a read")
        if not key:
            raise ValueError("a write needs its idempotency key")
        return self._call(self.plan(operation, args, customer_id, key))

    def _call(self, call: dict) -> dict:
        """The system's result; after the last retry, `{"ok": False, "unavailable": True, ...}` rather than an
        exception, because "the system did not answer" is a fact the policy decides on (review, not approve)."""
        op = self.operation(call["operation"])
        try:
            client = self._client(call["connector"])
            for attempt in Retrying(stop=stop_after_attempt(op.retries + 1), reraise=True,
                                    wait=wait_exponential(multiplier=self.backoff, max=5 * self.backoff * 10),
                                    retry=retry_if_exception_type(Unavailable)):
                with attempt:
                    return client.call(call["tool"], call["arguments"], call["headers"], op.timeout)
        except Unavailable as exc:
            return {"ok": False, "unavailable": True, "error": {"code": "unavailable", "message": str(exc)}}
        raise AssertionError("unreachable: tenacity re-raises the last failure")

    def _client(self, name: str) -> MCPClient | HTTPClient:
        with self._lock:
            if name not in self._clients:
                self._clients[name] = make_client(name, self.registry.connectors[name], self.values)
            return self._clients[name]

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
