"""The desk's record of every write it makes in a company system, keyed by the write's idempotency key.

The intent is stored before the call (`plan`), the outcome after it (`finish`). A run that crashes anywhere in
between leaves a `planned` row: the re-run of the node, or `reconcile`, calls again with the same key, and the
system answers with the first result instead of acting twice. Arguments are stored redacted.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from app.store.db import Database, connect
from knowledge.pii import redact

SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    key TEXT PRIMARY KEY,
    thread_id TEXT NOT NULL,
    ticket_id TEXT,
    customer_id TEXT,
    action TEXT NOT NULL,
    operation TEXT NOT NULL,
    mode TEXT NOT NULL,
    status TEXT NOT NULL,
    call TEXT NOT NULL,
    facts TEXT,
    result TEXT,
    error TEXT,
    reference TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS executions_thread ON executions (thread_id, created_at);
CREATE INDEX IF NOT EXISTS executions_status ON executions (status, updated_at)
"""
STATUSES = ("planned", "executed", "refused", "failed", "dry_run", "skipped")
JSON_COLUMNS = ("call", "facts", "result")


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


class Executions:
    def __init__(self, target: str | Path | Database):
        self.db = connect(target)
        self.db.script(SCHEMA)

    def plan(self, key: str, *, thread_id: str, ticket_id: str | None, customer_id: str | None, action: str,
             operation: str, mode: str, call: dict, facts: dict | None = None) -> dict:
        """Record the intent once, with the facts it was decided on; the row as it stands (a re-run finds the
        first one)."""
        now = time.time()
        with self.db.connect() as c:
            c.execute("INSERT INTO executions (key, thread_id, ticket_id, customer_id, action, operation, mode, status,"
                      " call, facts, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'planned', ?, ?, ?, ?) "
                      "ON CONFLICT (key) DO NOTHING",
                      (key, thread_id, ticket_id, customer_id, action, operation, mode,
                       json.dumps(_scrub(call), sort_keys=True),
                       json.dumps(_scrub(facts), sort_keys=True) if facts else None, now, now))
        return self.get(key)

    def attempt(self, key: str) -> None:
        with self.db.connect() as c:
            c.execute("UPDATE executions SET attempts = attempts + 1, updated_at = ? WHERE key = ?", (time.time(), key))

    def finish(self, key: str, status: str, result: dict | None = None, error: str | None = None,
               reference: str | None = None) -> dict:
        if status not in STATUSES:
            raise ValueError(f"unknown execution status {status!r}")
        with self.db.connect() as c:
            c.execute("UPDATE executions SET status = ?, result = ?, error = ?, reference = ?, updated_at = ? "
                      "WHERE key = ?", (status, json.dumps(_scrub(result), sort_keys=True) if result else None,
                                        redact(error) if error else None, reference, time.time(), key))
        return self.get(key)

    def get(self, key: str) -> dict | None:
        with self.db.connect() as c:
            row = c.one("SELECT * FROM executions WHERE key = ?", (key,))
        return self._row(row) if row else None

    def of_thread(self, thread_id: str) -> list[dict]:
        with self.db.connect() as c:
            rows = c.all("SELECT * FROM executions WHERE thread_id = ? ORDER BY created_at", (thread_id,))
        return [self._row(r) for r in rows]

    def of_customer(self, customer_id: str, limit: int = 20) -> list[dict]:
        """The customer's latest writes, newest first: what a reviewer reads before deciding another."""
        with self.db.connect() as c:
            rows = c.all("SELECT * FROM executions WHERE customer_id = ? ORDER BY created_at DESC LIMIT ?",
                         (customer_id, limit))
        return [self._row(r) for r in rows]

    def of_ticket(self, ticket_id: str) -> list[dict]:
        with self.db.connect() as c:
            rows = c.all("SELECT * FROM executions WHERE ticket_id = ? ORDER BY created_at", (ticket_id,))
        return [self._row(r) for r in rows]

    def unfinished(self, older_than: float = 0.0, limit: int = 100) -> list[dict]:
        """Writes whose outcome was never recorded (a crash), oldest first: what `reconcile` settles."""
        with self.db.connect() as c:
            rows = c.all("SELECT * FROM executions WHERE status IN ('planned', 'failed') AND updated_at <= ? "
                         "ORDER BY created_at LIMIT ?", (time.time() - older_than, limit))
        return [self._row(r) for r in rows]

    def counts(self, since: float = 0.0) -> dict[str, int]:
        with self.db.connect() as c:
            rows = c.all("SELECT status, COUNT(*) AS n FROM executions WHERE created_at >= ? GROUP BY status",
                         (since,))
        return {r["status"]: int(r["n"]) for r in rows}

    @staticmethod
    def _row(row: dict) -> dict:
        out = dict(row)
        for column in JSON_COLUMNS:
            out[column] = json.loads(out[column]) if out.get(column) else None
        return out
