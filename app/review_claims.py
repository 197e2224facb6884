"""Durable review bookkeeping: who is deciding which interrupt (claims) and which were escalated (SLA).

A claim row is inserted, under a unique (thread_id, interrupt_id) key, *before* a thread is resumed,
so when two reviewers (in any processes) decide the same item at once exactly one insert wins and
nothing is resumed twice. A claim whose holder crashed mid-resume can be taken over once stale.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS review_claims (
    thread_id TEXT NOT NULL,
    interrupt_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    decision TEXT NOT NULL,
    status TEXT NOT NULL,            -- claimed | done
    claimed_at REAL NOT NULL,
    finished_at REAL,
    PRIMARY KEY (thread_id, interrupt_id)
);
CREATE TABLE IF NOT EXISTS review_escalations (
    thread_id TEXT NOT NULL,
    interrupt_id TEXT NOT NULL,
    priority TEXT NOT NULL,
    escalated_to TEXT NOT NULL,
    escalated_at REAL NOT NULL,
    PRIMARY KEY (thread_id, interrupt_id)
);
"""


class ClaimTakenError(LookupError):
    """Another reviewer holds (or already used) the claim on this interrupt."""


class ReviewClaims:
    def __init__(self, path: Path, stale_after: float = 600.0):
        self.path, self.stale_after = Path(path), stale_after
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._conn() as c:
            c.executescript(SCHEMA)

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout=30000")
        try:
            yield conn
        finally:
            conn.close()

    def claim(self, thread_id: str, interrupt_id: str, reviewer: str, decision: str) -> None:
        """Take the item or raise ClaimTakenError naming who has it."""
        now = time.time()
        with self._conn() as c:
            try:
                c.execute("INSERT INTO review_claims VALUES (?, ?, ?, ?, 'claimed', ?, NULL)",
                          (thread_id, interrupt_id, reviewer, decision, now))
                return
            except sqlite3.IntegrityError:
                pass
            # Only a claim abandoned mid-resume (holder crashed) may be taken over, atomically.
            took = c.execute(
                "UPDATE review_claims SET reviewer = ?, decision = ?, claimed_at = ? WHERE thread_id = ? "
                "AND interrupt_id = ? AND status = 'claimed' AND claimed_at < ?",
                (reviewer, decision, now, thread_id, interrupt_id, now - self.stale_after)).rowcount
            if took:
                return
            row = c.execute("SELECT * FROM review_claims WHERE thread_id = ? AND interrupt_id = ?",
                            (thread_id, interrupt_id)).fetchone()
        if row is None:  # released between our insert and our read: try again
            return self.claim(thread_id, interrupt_id, reviewer, decision)
        verb = "already decided" if row["status"] == "done" else "being decided right now"
        raise ClaimTakenError(f"thread {thread_id}: this review is {verb} by {row['reviewer']} "
                              f"({row['decision']}); nothing was changed")

    def finish(self, thread_id: str, interrupt_id: str) -> None:
        with self._conn() as c:
            c.execute("UPDATE review_claims SET status = 'done', finished_at = ? WHERE thread_id = ? AND interrupt_id = ?",
                      (time.time(), thread_id, interrupt_id))

    def release(self, thread_id: str, interrupt_id: str) -> None:
        """The resume failed before deciding: let someone else (or a retry) decide."""
        with self._conn() as c:
            c.execute("DELETE FROM review_claims WHERE thread_id = ? AND interrupt_id = ? AND status = 'claimed'",
                      (thread_id, interrupt_id))

    def get(self, thread_id: str, interrupt_id: str) -> dict | None:
        with self._conn() as c:
            row = c.execute("SELECT * FROM review_claims WHERE thread_id = ? AND interrupt_id = ?",
                            (thread_id, interrupt_id)).fetchone()
        return dict(row) if row else None

    # ---- SLA escalations ---------------------------------------------------------------
    def escalate(self, thread_id: str, interrupt_id: str, priority: str, escalated_to: str) -> bool:
        """Mark an item escalated; False if it already was (the sweep is idempotent)."""
        with self._conn() as c:
            cur = c.execute("INSERT OR IGNORE INTO review_escalations VALUES (?, ?, ?, ?, ?)",
                            (thread_id, interrupt_id, priority, escalated_to, time.time()))
            return cur.rowcount == 1

    def escalations(self) -> dict[tuple[str, str], dict]:
        with self._conn() as c:
            rows = c.execute("SELECT * FROM review_escalations").fetchall()
        return {(r["thread_id"], r["interrupt_id"]): dict(r) for r in rows}
