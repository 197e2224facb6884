"""The one place original personal data is kept: contact details a human may need to reach the
customer. Stored apart from checkpoints, tickets and the audit trail; the customer-facing and
LLM paths never read it (agents see redacted text only)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

SCHEMA = """CREATE TABLE IF NOT EXISTS contacts (
    thread_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, created_at REAL NOT NULL,
    PRIMARY KEY (thread_id, kind, value))"""


class ContactVault:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(self.path, timeout=30) as c:
            c.execute(SCHEMA)

    def keep(self, thread_id: str, found: dict[str, list[str]]) -> int:
        rows = [(thread_id, kind, v, time.time()) for kind, values in found.items() for v in values]
        if not rows:
            return 0
        with sqlite3.connect(self.path, timeout=30) as c:
            return c.executemany("INSERT OR IGNORE INTO contacts VALUES (?, ?, ?, ?)", rows).rowcount

    def contacts(self, thread_id: str) -> dict[str, list[str]]:
        with sqlite3.connect(self.path, timeout=30) as c:
            rows = c.execute("SELECT kind, value FROM contacts WHERE thread_id = ? ORDER BY created_at",
                             (thread_id,)).fetchall()
        out: dict[str, list[str]] = {}
        for kind, value in rows:
            out.setdefault(kind, []).append(value)
        return out
