"""Who has which conversation open in the workspace right now, across browsers, processes and hosts.

Two agents answering the same customer at once send two replies (Zendesk shows "also viewing" for this). Each
workspace refresh says "I have this open" (`seen`); a view older than `FRESH_S` has lapsed: a closed tab needs no
sign-off. In the desk's database, so every console process and host sees the same viewers.
"""

from __future__ import annotations

import time
from pathlib import Path

from app.store.db import Database, connect

SCHEMA = ("CREATE TABLE IF NOT EXISTS presence (item TEXT NOT NULL, member TEXT NOT NULL, seen_at REAL NOT NULL, "
          "PRIMARY KEY (item, member))")
FRESH_S = 30.0  # three workspace refreshes


class Presence:
    def __init__(self, target: str | Path | Database):
        self.db = connect(target)
        self.db.script(SCHEMA)

    def seen(self, item: str, member: str, now: float | None = None) -> None:
        """`member` has `item` ("ticket:<id>", "review:<thread>") open; one row per member: opening another moves it."""
        now = time.time() if now is None else now
        with self.db.connect() as c:
            c.execute("DELETE FROM presence WHERE member = ? AND item <> ?", (member, item))
            c.execute("INSERT INTO presence VALUES (?, ?, ?) ON CONFLICT (item, member) DO UPDATE SET "
                      "seen_at = excluded.seen_at", (item, member, now))

    def others(self, item: str, member: str, now: float | None = None) -> list[str]:
        """Who else has `item` open (seen within FRESH_S), by id."""
        now = time.time() if now is None else now
        with self.db.connect() as c:
            rows = c.all("SELECT member FROM presence WHERE item = ? AND member <> ? AND seen_at >= ? ORDER BY member",
                         (item, member, now - FRESH_S))
        return [r["member"] for r in rows]

    def left(self, member: str) -> None:
        """Signed out: nothing is open for them any more."""
        with self.db.connect() as c:
            c.execute("DELETE FROM presence WHERE member = ?", (member,))
