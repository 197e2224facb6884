"""Operator controls that every process sees: the global kill switch.

While paused, no new side effect happens automatically: compliance sends every action to
human review. Toggles are written to the audit trail.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from app.store.audit import AuditLog
from app.store.db import Database, connect

SCHEMA = "CREATE TABLE IF NOT EXISTS controls (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at REAL NOT NULL)"


class Controls:
    def __init__(self, target: str | Path | Database, audit: AuditLog):
        self.db, self.audit = connect(target), audit
        self.db.script(SCHEMA)

    def _get(self, name: str) -> dict | None:
        with self.db.connect() as c:
            row = c.one("SELECT value FROM controls WHERE name = ?", (name,))
        return json.loads(row["value"]) if row else None

    def kill_switch(self) -> dict:
        return self._get("kill_switch") or {"on": False}

    @property
    def paused(self) -> bool:
        return bool(self.kill_switch().get("on"))

    def set_kill_switch(self, on: bool, actor: str, reason: str = "") -> dict:
        value = {"on": on, "actor": actor, "reason": reason, "at": time.time()}
        with self.db.connect() as c:
            c.execute("INSERT INTO controls VALUES ('kill_switch', ?, ?) ON CONFLICT (name) DO UPDATE SET "
                      "value = excluded.value, updated_at = excluded.updated_at", (json.dumps(value), value["at"]))
        event = "kill_switch_on" if on else "kill_switch_off"
        self.audit.record(f"control:kill_switch:{value['at']}", "-", "operator", event, reason,
                          actor=f"operator:{actor}", evidence=value)
        return value
