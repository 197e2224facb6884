"""Exchanges a paused thread's history cannot keep: a question answered, or small talk replied to, while a review
waits (app/review/customer_notes.py leaves the paused graph as it is for those).

They were kept in the browser session only, so after a reload, or in another tab, the customer's question and our
answer were gone. Here they are in the desk's database, redacted like every message, each placed after the number
of history messages it followed; `SupportDesk.history` shows them in place, on every door.
"""

from __future__ import annotations

import time
from pathlib import Path

from app.store.db import Database, connect

SCHEMA = ("CREATE TABLE IF NOT EXISTS asides (message_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, "
          "after_count INTEGER NOT NULL, prompt TEXT NOT NULL, answer TEXT NOT NULL, at REAL NOT NULL);"
          "CREATE INDEX IF NOT EXISTS asides_thread ON asides(thread_id, at)")


class Asides:
    def __init__(self, target: str | Path | Database):
        self.db = connect(target)
        self.db.script(SCHEMA)

    def add(self, thread_id: str, message_id: str, after: int, prompt: str, answer: str) -> None:
        """Once per message: the same message sent again is the same exchange."""
        with self.db.connect() as c:
            c.execute("INSERT INTO asides VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
                      (message_id, thread_id, after, prompt, answer, time.time()))

    def of_thread(self, thread_id: str) -> list[dict]:
        with self.db.connect() as c:
            return c.all("SELECT after_count, prompt, answer FROM asides WHERE thread_id = ? ORDER BY at",
                         (thread_id,))


def merged(messages: list[dict], asides: list[dict]) -> list[dict]:
    """The history with each aside (the customer's message, then our reply) after the messages it followed."""
    extra: dict[int, list[dict]] = {}
    for a in asides:
        extra.setdefault(int(a["after_count"]), []).extend([
            {"role": "human", "content": a["prompt"], "name": None, "aside": True},
            {"role": "ai", "content": a["answer"], "name": None, "aside": True}])
    out = list(extra.get(0, []))
    for i, m in enumerate(messages):
        out += [m, *extra.get(i + 1, [])]
    out += [m for k, ms in extra.items() if k > len(messages) for m in ms]  # never lost, even if misplaced
    return out
