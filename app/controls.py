"""Operator controls that every process sees: the global kill switch.

While paused, no new side effect happens automatically: compliance sends every action to
human review. Toggles are written to the audit trail.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from app.audit import AuditLog

SCHEMA = "CREATE TABLE IF NOT EXISTS controls (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at REAL NOT NULL)"


class Controls:
    def __init__(self, path: Path, audit: AuditLog):
        self.path, self.audit = Path(path), audit
        with sqlite3.connect(self.path, timeout=30) as c:
            c.execute(SCHEMA)

    def _get(self, name: str) -> dict | None:
        with sqlite3.connect(self.path, timeout=30) as c:
            row = c.execute("SELECT value FROM controls WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row else None

    def kill_switch(self) -> dict:
        return self._get("kill_switch") or {"on": False}

    @property
    def paused(self) -> bool:
        return bool(self.kill_switch().get("on"))

    def set_kill_switch(self, on: bool, actor: str, reason: str = "") -> dict:
        value = {"on": on, "actor": actor, "reason": reason, "at": time.time()}
        with sqlite3.connect(self.path, timeout=30) as c:
            c.execute("INSERT OR REPLACE INTO controls VALUES ('kill_switch', ?, ?)", (json.dumps(value), value["at"]))
        self.audit.record(f"control:kill_switch:{value['at']}", "-", "operator", "kill_switch_on" if on else "kill_switch_off",
                          reason, actor=f"operator:{actor}", evidence=value)
        return value
