"""The operations registry (app/config/connectors.yaml): what the desk may read and do in the company's systems.

The registry, not the server, decides what is a write: a server's tool annotations are hints, and a tool that is
not declared here cannot be called at all. Each operation's input is a pydantic model built from its declaration,
so a call with a missing or extra argument is refused before it leaves the desk.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from agents.config import load_model

Mode = Literal["live", "dry_run", "off"]
TYPES: dict[str, type] = {"str": str, "float": float, "int": int, "bool": bool}


class ConnectorsError(ValueError):
    """The connectors file is missing, unreadable or invalid; the message names the file and the entry."""


class Passing(BaseModel):
    """How a value travels with a call: as a tool/body argument or as an HTTP header."""

    model_config = ConfigDict(extra="forbid")

    argument: str | None = None
    header: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Passing:
        if bool(self.argument) == bool(self.header):
            raise ValueError("give exactly one of argument or header")
        return self


class Connector(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["mcp", "http"]
    transport: Literal["stdio", "streamable_http"] | None = None
    command: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    customer: Passing
    mode: Mode | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Connector:
        if self.kind == "mcp" and self.transport is None:
            raise ValueError("an mcp connector needs transport: stdio or streamable_http")
        if self.kind == "http" and self.transport is not None:
            raise ValueError("transport is for mcp connectors; an http connector has a url only")
        if self.transport == "stdio" and not self.command:
            raise ValueError("a stdio connector needs command")
        if self.transport != "stdio" and not self.url:
            raise ValueError("this connector needs url")
        if self.kind == "mcp" and self.customer.header:
            raise ValueError("an mcp connector passes the customer as an argument (a held session has no "
                             "per-call headers)")
        return self


class Operation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["read", "write"]
    connector: str
    tool: str | None = None  # the MCP tool or HTTP path; default: the operation's name
    input: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(10.0, gt=0)
    retries: int = Field(2, ge=0, le=10)
    idempotency: Passing | None = None
    reverses: str | None = None  # for a write: the operation that undoes it

    @model_validator(mode="after")
    def _shape(self) -> Operation:
        bad = {k: v for k, v in self.input.items() if v.rstrip("?") not in TYPES}
        if bad:
            raise ValueError(f"input types must be one of {', '.join(TYPES)} (optional with ?): {bad}")
        if self.kind == "write" and self.idempotency is None:
            raise ValueError("a write needs idempotency (how its key is passed), so a retry cannot run it twice")
        return self

    def validate_args(self, args: dict[str, Any]) -> dict[str, Any]:
        """The declared arguments only, type-checked; ValueError naming what is wrong."""
        fields = {name: (TYPES[t.rstrip("?")] | None, None) if t.endswith("?") else (TYPES[t], ...)
                  for name, t in self.input.items()}
        model = create_model("Args", __config__=ConfigDict(extra="ignore", strict=False), **fields)
        clean = model.model_validate(args).model_dump(exclude_none=True)
        if any(isinstance(v, float) and not math.isfinite(v) for v in clean.values()):
            raise ValueError("amounts must be finite numbers")
        return clean


class ActionBinding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: str
    facts: str | None = None  # the read that gives the facts policy checks before deciding


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: str  # the read for a named order
    latest: str | None = None  # the read that lists the customer's orders when none is named


class Registry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = 1
    connectors: dict[str, Connector] = Field(default_factory=dict)
    operations: dict[str, Operation] = Field(default_factory=dict)
    actions: dict[str, ActionBinding] = Field(default_factory=dict)
    answers: dict[str, Answer] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> Registry:
        for name, op in self.operations.items():
            if op.connector not in self.connectors:
                raise ValueError(f"operation {name}: unknown connector {op.connector!r}")
            if op.reverses and op.reverses not in self.operations:
                raise ValueError(f"operation {name}: reverses unknown operation {op.reverses!r}")
        for name, binding in self.actions.items():
            self._need(f"action {name}", binding.operation, "write")
            if binding.facts:
                self._need(f"action {name} facts", binding.facts, "read")
        for name, answer in self.answers.items():
            for op in filter(None, (answer.operation, answer.latest)):
                self._need(f"answer {name}", op, "read")
        return self

    def _need(self, where: str, op: str, kind: str) -> None:
        if op not in self.operations:
            raise ValueError(f"{where}: unknown operation {op!r}")
        if self.operations[op].kind != kind:
            raise ValueError(f"{where}: operation {op!r} is a {self.operations[op].kind}, not a {kind}")


def load_registry(path: str | Path) -> Registry:
    _, registry = load_model(Path(path), Registry, ConnectorsError, "connectors", "'connectors' and 'operations'",
                             {"operations": "operation", "connectors": "connector"})
    return registry
