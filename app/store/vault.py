"""The one place original personal data is kept: contact details a human may need to reach the
customer. Stored apart from checkpoints, tickets and the audit trail; the customer-facing and
LLM paths never read it (agents see redacted text only)."""

from __future__ import annotations

import time
from pathlib import Path

from app.store.db import Database, connect

SCHEMA = """CREATE TABLE IF NOT EXISTS contacts (
    thread_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, created_at REAL NOT NULL,
    PRIMARY KEY (thread_id, kind, value))"""


class ContactVault:
    def __init__(self, target: str | Path | Database):
        self.db = connect(target)
        self.db.script(SCHEMA)

    def keep(self, thread_id: str, found: dict[str, list[str]]) -> int:
        rows = [(thread_id, kind, v, time.time()) for kind, values in found.items() for v in values]
        if not rows:
            return 0
        with self.db.connect() as c:
            return c.executemany("INSERT INTO contacts VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", rows)

    def contacts(self, thread_id: str) -> dict[str, list[str]]:
        with self.db.connect() as c:
            rows = c.all("SELECT kind, value FROM contacts WHERE thread_id = ? ORDER BY created_at", (thread_id,))
        out: dict[str, list[str]] = {}
        for r in rows:
            out.setdefault(r["kind"], []).append(r["value"])
        return out
