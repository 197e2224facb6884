"""Who a thread belongs to, and which turn a caller's message id names.

A thread is owned by the channel that created it and, once one is known, by the verified customer: another
channel or another customer is told the thread does not exist (the same 404 as for an id nobody used, so ids
cannot be probed). Ownership is claimed with one insert under the thread id's primary key before the turn's first
step, so two callers racing for a fresh id cannot both own it.

Message ids are scoped to their channel: `(channel, message_id)` names one turn, with or without a `thread_id`.
The row keeps a keyed digest of the text (an HMAC with the deployment's secret, so a short message cannot be
recovered from the table), and a retry with other text is refused instead of being answered with the old reply.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from pathlib import Path

from app.store.db import Database, connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS thread_owners (
    thread_id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    customer_id TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS thread_owners_customer ON thread_owners (channel, customer_id, created_at);
CREATE TABLE IF NOT EXISTS message_keys (
    channel TEXT NOT NULL,
    message_id TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (channel, message_id)
)
"""


class MessageIdConflictError(LookupError):
    """A message id this channel already used, sent again with other content or for another thread (409)."""


@dataclass(frozen=True)
class Owner:
    channel: str
    customer_id: str | None


class ThreadOwners:
    def __init__(self, target: str | Path | Database, key: bytes = b""):
        self.db = connect(target)
        self.key = key
        self.db.script(SCHEMA)

    # ---- threads -------------------------------------------------------------------------------------
    def owner(self, thread_id: str) -> Owner | None:
        with self.db.connect() as c:
            row = c.one("SELECT channel, customer_id FROM thread_owners WHERE thread_id = ?", (thread_id,))
        return Owner(row["channel"], row["customer_id"]) if row else None

    def claim(self, thread_id: str, channel: str, customer_id: str | None) -> Owner:
        """Record `channel` (and `customer_id`) as the owner of a thread nobody owns yet, and bind a verified
        customer to an anonymous thread of the same channel; the thread's owner afterwards."""
        with self.db.connect() as c:
            c.execute("INSERT INTO thread_owners (thread_id, channel, customer_id, created_at) VALUES (?, ?, ?, ?) "
                      "ON CONFLICT (thread_id) DO NOTHING", (thread_id, channel, customer_id, time.time()))
            if customer_id:
                c.execute("UPDATE thread_owners SET customer_id = ? WHERE thread_id = ? AND channel = ? "
                          "AND customer_id IS NULL", (customer_id, thread_id, channel))
        found = self.owner(thread_id)
        if found is None:  # the row was just inserted or already there; only a dropped table gets here
            raise RuntimeError(f"thread owner of {thread_id!r} vanished")
        return found

    def threads_of(self, channel: str, customer_id: str, limit: int = 50) -> list[dict]:
        """A customer's threads on one channel, newest first (the console's "your conversations")."""
        with self.db.connect() as c:
            return c.all("SELECT thread_id, created_at FROM thread_owners WHERE channel = ? AND customer_id = ? "
                         "ORDER BY created_at DESC LIMIT ?", (channel, customer_id, int(limit)))

    # ---- message ids ---------------------------------------------------------------------------------
    def digest(self, text: str) -> str:
        return hmac.new(self.key, text.encode("utf-8"), hashlib.sha256).hexdigest()

    def message_thread(self, channel: str, message_id: str, text: str, requested: str | None, fresh: str) -> str:
        """The thread `(channel, message_id)` names: the `requested` thread (or `fresh`, a new one) the first
        time, the first send's thread on a retry. MessageIdConflictError when the retry carries other text or
        names another thread."""
        digest = self.digest(text)
        with self.db.connect() as c:
            c.execute("INSERT INTO message_keys (channel, message_id, thread_id, digest, created_at) "
                      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel, message_id) DO NOTHING",
                      (channel, message_id, requested or fresh, digest, time.time()))
            row = c.one("SELECT thread_id, digest FROM message_keys WHERE channel = ? AND message_id = ?",
                        (channel, message_id))
        if row is None:
            raise RuntimeError(f"message key {message_id!r} vanished")
        if not hmac.compare_digest(row["digest"], digest):
            raise MessageIdConflictError(f"message_id {message_id!r} was already used for a different message; "
                                         "use a new id for a new message")
        if requested and requested != row["thread_id"]:
            raise MessageIdConflictError(f"message_id {message_id!r} was already used in another conversation; "
                                         "use a new id for a new message")
        return row["thread_id"]
