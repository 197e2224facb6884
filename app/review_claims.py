"""Durable review bookkeeping: who is deciding which interrupt (claims) and which were escalated (SLA).

A claim row is inserted, under a unique (thread_id, interrupt_id) key, *before* a thread is resumed,
so when two reviewers (in any processes) decide the same item at once exactly one insert wins and
nothing is resumed twice. A claim whose holder crashed mid-resume can be taken over once stale.
"""

from __future__ import annotations

import time
from pathlib import Path

from app.db import Database, connect

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
)
"""


class ClaimTakenError(LookupError):
    """Another reviewer holds (or already used) the claim on this interrupt."""


class ReviewClaims:
    def __init__(self, target: "str | Path | Database", stale_after: float = 600.0):
        self.db, self.stale_after = connect(target), stale_after
        self.db.script(SCHEMA)

    def claim(self, thread_id: str, interrupt_id: str, reviewer: str, decision: str) -> None:
        """Take the item or raise ClaimTakenError naming who has it."""
        now = time.time()
        with self.db.connect() as c:
            if c.execute("INSERT INTO review_claims VALUES (?, ?, ?, ?, 'claimed', ?, NULL) ON CONFLICT DO NOTHING",
                         (thread_id, interrupt_id, reviewer, decision, now)).rowcount == 1:
                return
            # Only a claim abandoned mid-resume (holder crashed) may be taken over, atomically.
            took = c.execute(
                "UPDATE review_claims SET reviewer = ?, decision = ?, claimed_at = ? WHERE thread_id = ? "
                "AND interrupt_id = ? AND status = 'claimed' AND claimed_at < ?",
                (reviewer, decision, now, thread_id, interrupt_id, now - self.stale_after)).rowcount
            if took:
                return
            row = c.one("SELECT * FROM review_claims WHERE thread_id = ? AND interrupt_id = ?", (thread_id, interrupt_id))
        if row is None:  # released between our insert and our read: try again
            return self.claim(thread_id, interrupt_id, reviewer, decision)
        verb = "already decided" if row["status"] == "done" else "being decided right now"
        raise ClaimTakenError(f"thread {thread_id}: this review is {verb} by {row['reviewer']} "
                              f"({row['decision']}); nothing was changed")

    def finish(self, thread_id: str, interrupt_id: str) -> None:
        with self.db.connect() as c:
            c.execute("UPDATE review_claims SET status = 'done', finished_at = ? WHERE thread_id = ? AND interrupt_id = ?",
                      (time.time(), thread_id, interrupt_id))

    def release(self, thread_id: str, interrupt_id: str) -> None:
        """The resume failed before deciding: let someone else (or a retry) decide."""
        with self.db.connect() as c:
            c.execute("DELETE FROM review_claims WHERE thread_id = ? AND interrupt_id = ? AND status = 'claimed'",
                      (thread_id, interrupt_id))

    def get(self, thread_id: str, interrupt_id: str) -> dict | None:
        with self.db.connect() as c:
            return c.one("SELECT * FROM review_claims WHERE thread_id = ? AND interrupt_id = ?", (thread_id, interrupt_id))

    # ---- SLA escalations ---------------------------------------------------------------
    def escalate(self, thread_id: str, interrupt_id: str, priority: str, escalated_to: str) -> bool:
        """Mark an item escalated; False if it already was (the sweep is idempotent)."""
        with self.db.connect() as c:
            cur = c.execute("INSERT INTO review_escalations VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                            (thread_id, interrupt_id, priority, escalated_to, time.time()))
            return cur.rowcount == 1

    def escalations(self) -> dict[tuple[str, str], dict]:
        with self.db.connect() as c:
            rows = c.all("SELECT * FROM review_escalations")
        return {(r["thread_id"], r["interrupt_id"]): r for r in rows}
