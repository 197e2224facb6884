"""Durable ticket store with idempotency keys: a replayed or resumed run never creates a ticket twice."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from app.store.db import Database, connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    thread_id TEXT NOT NULL,
    customer_id TEXT,
    intent TEXT,
    priority TEXT NOT NULL,
    queue TEXT,
    status TEXT NOT NULL,
    summary TEXT NOT NULL,
    action TEXT NOT NULL,
    policy TEXT NOT NULL,
    reviewer TEXT,
    llm_calls INTEGER NOT NULL DEFAULT 0,
    tokens INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_thread ON tickets(thread_id);
CREATE TABLE IF NOT EXISTS notifications (
    idempotency_key TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    channel TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""

JSON_FIELDS = ("action", "policy")


class TicketStore:
    def __init__(self, target: str | Path | Database):
        self.db = connect(target)
        self.db.script(SCHEMA)

    @staticmethod
    def ticket_id(key: str) -> str:
        return "T-" + hashlib.sha256(key.encode()).hexdigest()[:10].upper()

    def create(self, key: str, **fields: Any) -> tuple[dict, bool]:
        """Insert once per idempotency key; returns (ticket, created_now)."""
        now = time.time()
        row = {
            "id": self.ticket_id(key), "idempotency_key": key, "status": "open", "priority": "normal",
            "created_at": now, "updated_at": now, **fields,
        }
        for f in JSON_FIELDS:
            row[f] = json.dumps(row.get(f) or {}, sort_keys=True)
        cols = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        with self.db.connect() as c:
            cur = c.execute(f"INSERT INTO tickets ({cols}) VALUES ({marks}) ON CONFLICT DO NOTHING", row)
            created = cur.rowcount == 1
            got = c.one("SELECT * FROM tickets WHERE idempotency_key = ?", (key,))
        return self._row(got), created

    def notify(self, key: str, ticket_id: str, channel: str, body: str) -> bool:
        with self.db.connect() as c:
            cur = c.execute("INSERT INTO notifications VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                            (key, ticket_id, channel, body, time.time()))
            return cur.rowcount == 1

    def get(self, ticket_id: str) -> dict | None:
        with self.db.connect() as c:
            row = c.one("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
        return self._row(row) if row else None

    def list(self, thread_id: str | None = None, status: str | None = None, limit: int = 200) -> list[dict]:
        sql, args = "SELECT * FROM tickets WHERE 1=1", []
        if thread_id:
            sql, args = sql + " AND thread_id = ?", [*args, thread_id]
        if status:
            sql, args = sql + " AND status = ?", [*args, status]
        with self.db.connect() as c:
            rows = c.all(sql + " ORDER BY created_at DESC LIMIT ?", [*args, limit])
        return [self._row(r) for r in rows]

    def count_recent(self, customer_id: str, action: str, days: int) -> int:
        since = time.time() - days * 86400
        with self.db.connect() as c:
            action_name = self.db.json_text("action", "name")
            row = c.one(f"SELECT COUNT(*) AS n FROM tickets WHERE customer_id = ? AND {action_name} = ? "
                        "AND created_at >= ?", (customer_id, action, since))
        return int(row["n"])

    def notifications(self, ticket_id: str) -> list[dict]:
        with self.db.connect() as c:
            return c.all("SELECT * FROM notifications WHERE ticket_id = ?", (ticket_id,))

    @staticmethod
    def _row(row: dict) -> dict:
        d = dict(row)
        for f in JSON_FIELDS:
            d[f] = json.loads(d[f])
        return d
