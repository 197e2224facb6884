"""Durable review bookkeeping: who is deciding which interrupt (claims) and which were escalated (SLA).

A claim row is inserted, under a unique (thread_id, interrupt_id) key, *before* a decision takes effect, on
every path: the API/CLI (app/review/door.py) claims before it resumes the thread, and the graph's review node
claims for decisions sent straight to it (Studio, SDK). When two reviewers (in any processes) decide the same
item at once exactly one insert wins and nothing is resumed twice. The row keeps a digest of the decision, so the
review node recognises the claim the API took for that very decision (and its own, when it replays) and refuses
any other. A claim whose holder crashed mid-resume can be taken over: at once when the holder was a process on
this host that no longer exists, otherwise once the claim is stale.

It lives with the stores (not in app/review) because the services hand it to the graph.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from app.store.db import Database, connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS review_claims (
    thread_id TEXT NOT NULL,
    interrupt_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    decision TEXT NOT NULL,
    status TEXT NOT NULL,            -- claimed | done
    claimed_at REAL NOT NULL,
    finished_at REAL,
    holder TEXT,                     -- host:pid of the process resuming the thread
    digest TEXT,                     -- which decision (agents.compliance.hitl.decision_digest)
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


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def holder_gone(holder: str | None) -> bool:
    """Whether the claim's holder was a process on this host that has exited (a reused pid looks alive:
    such a claim waits to go stale, it is never taken from a live holder)."""
    host, _, pid = (holder or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class ReviewClaims:
    def __init__(self, target: str | Path | Database, stale_after: float = 600.0):
        self.db, self.stale_after = connect(target), stale_after
        self.db.script(SCHEMA)
        self.db.add_column("review_claims", "holder", "TEXT")  # tables made before holders were kept
        self.db.add_column("review_claims", "digest", "TEXT")  # … and before decisions were told apart

    def claim(self, thread_id: str, interrupt_id: str, reviewer: str, decision: str,
              digest: str | None = None) -> None:
        """Take the item or raise ClaimTakenError naming who has it (the API's claim: one insert wins)."""
        self._take(thread_id, interrupt_id, reviewer, decision, digest, same_decision_ok=False)

    def take(self, thread_id: str, interrupt_id: str, reviewer: str, decision: str, digest: str) -> None:
        """The review node's claim: like `claim`, but a claim already held for this very decision (same digest)
        is accepted: the API took it before resuming, or this node took it on an earlier run it now replays."""
        self._take(thread_id, interrupt_id, reviewer, decision, digest, same_decision_ok=True)

    def _take(self, thread_id: str, interrupt_id: str, reviewer: str, decision: str, digest: str | None,
              same_decision_ok: bool) -> None:
        now, me = time.time(), this_process()
        with self.db.connect() as c:
            if c.execute("INSERT INTO review_claims (thread_id, interrupt_id, reviewer, decision, status, "
                         "claimed_at, holder, digest) VALUES (?, ?, ?, ?, 'claimed', ?, ?, ?) ON CONFLICT DO NOTHING",
                         (thread_id, interrupt_id, reviewer, decision, now, me, digest)).rowcount == 1:
                return
            row = self._row(c, thread_id, interrupt_id)
            if same_decision_ok and row is not None and digest and row["digest"] == digest:
                return
            # Only a claim abandoned mid-resume (its holder crashed) may be taken over: atomically, and only
            # from the holder we looked at.
            if row is not None and row["status"] == "claimed" and (
                    row["claimed_at"] < now - self.stale_after or holder_gone(row["holder"])):
                if c.execute(
                    "UPDATE review_claims SET reviewer = ?, decision = ?, claimed_at = ?, holder = ?, digest = ? "
                    "WHERE thread_id = ? AND interrupt_id = ? AND status = 'claimed' AND claimed_at = ?",
                    (reviewer, decision, now, me, digest, thread_id, interrupt_id, row["claimed_at"]),
                ).rowcount:
                    return
                row = self._row(c, thread_id, interrupt_id)
        if row is None:  # released between our insert and our read: try again
            return self._take(thread_id, interrupt_id, reviewer, decision, digest, same_decision_ok)
        verb = "already decided" if row["status"] == "done" else "being decided right now"
        raise ClaimTakenError(f"thread {thread_id}: this review is {verb} by {row['reviewer']} "
                              f"({row['decision']}); nothing was changed")

    def in_progress(self, thread_id: str, interrupt_id: str) -> dict | None:
        """The claim, while its holder may still be resuming the thread (not finished, not abandoned)."""
        row = self.get(thread_id, interrupt_id)
        if row is None or row["status"] != "claimed" or row["claimed_at"] < time.time() - self.stale_after \
                or holder_gone(row["holder"]):
            return None
        return row

    def finish(self, thread_id: str, interrupt_id: str) -> None:
        with self.db.connect() as c:
            c.execute("UPDATE review_claims SET status = 'done', finished_at = ? "
                      "WHERE thread_id = ? AND interrupt_id = ?",
                      (time.time(), thread_id, interrupt_id))

    def release(self, thread_id: str, interrupt_id: str) -> None:
        """The resume failed before deciding: let someone else (or a retry) decide."""
        with self.db.connect() as c:
            c.execute("DELETE FROM review_claims WHERE thread_id = ? AND interrupt_id = ? AND status = 'claimed'",
                      (thread_id, interrupt_id))

    def get(self, thread_id: str, interrupt_id: str) -> dict | None:
        with self.db.connect() as c:
            return self._row(c, thread_id, interrupt_id)

    @staticmethod
    def _row(c, thread_id: str, interrupt_id: str) -> dict | None:
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
