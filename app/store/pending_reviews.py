"""The index of pending reviews: one row per paused thread, so the inbox reads a page, not every thread.

The checkpointer stays the truth; this table is what lets the inbox order, filter and page without opening each
thread. It is kept true by the thread runner alone (app/threads.py), where every run ends:

- before a run's first graph call it *marks* the thread's row (`mark`: running since, by which process), so a
  process killed mid-run leaves a mark behind instead of a paused thread nobody knows about;
- when the operation ends it *settles* the row from the thread's final state (`settle`): the facts of its pending
  review (upsert), or no row at all.

A mark a run never settled (its process died, or the write failed) is settled by the next inbox read from the
thread itself (`repair`). Every write but the runner's own is conditional on the row's `rev`, so a repair or a
rebuild racing a live run never overwrites what the run settled. The inbox still checks each row it shows against
its thread (app/review/inbox.py), so a stale row is dropped, never decided.

No text is kept (requests, notes, customer ids): only what ordering, filtering and paging need. Amounts are in the
policy currency, as the approval limits are.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from agents.compliance.reviewers import carried_amount
from app.store.db import Database, connect
from app.store.review_claims import ReviewClaims, holder_gone, this_process

_log = logging.getLogger("supportflow.pending_reviews")

PRIORITIES = ("low", "normal", "high", "urgent")
ORDER = "urgency DESC, paused_at, thread_id"  # most urgent, then oldest first (as the inbox always listed them)
REPAIR_AFTER = 60.0  # seconds: a mark older than this is settled from its thread even if its holder looks alive
_ALL = 2**62  # "no limit" for LIMIT ? OFFSET ?, which both dialects accept

SCHEMA = """
CREATE TABLE IF NOT EXISTS pending_reviews (
    thread_id TEXT PRIMARY KEY,
    interrupt_id TEXT,                 -- NULL: a run's mark only, no pending review recorded
    review_id TEXT,                    -- the item's first interrupt (metadata.opened): an escalation may key on it
    created_at TEXT,                   -- the paused checkpoint's time
    paused_at REAL,                    -- when the item was first asked: its age counts from here
    rule_id TEXT,
    rule_queue TEXT,
    reviewer_role TEXT,
    amount REAL,                       -- in the policy currency
    max_amount REAL,                   -- the largest amount the action carried (metadata.max_amount)
    limit_amount REAL,                 -- what an approval limit must cover (NULL: no amount)
    over_every_limit INTEGER NOT NULL DEFAULT 0,  -- no rate for its currency, or not finite: nobody qualifies
    priority TEXT,                     -- the policy's
    escalated_to TEXT,                 -- the SLA sweep's mark (app/review/sla.py)
    urgency INTEGER,                   -- rank of the priority in force: escalated, else the policy's
    running_since REAL,                -- a run began on the thread and has not settled this row yet
    running_holder TEXT,               -- host:pid of that run
    rev TEXT NOT NULL,                 -- changes on every write: conditional writes compare it
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS pending_reviews_order ON pending_reviews (urgency DESC, paused_at, thread_id);
CREATE INDEX IF NOT EXISTS pending_reviews_running ON pending_reviews (running_since);
CREATE TABLE IF NOT EXISTS pending_reviews_builds (
    name TEXT PRIMARY KEY,
    built_at REAL NOT NULL,
    threads INTEGER NOT NULL,
    pending INTEGER NOT NULL
)
"""

FACTS = ("interrupt_id", "review_id", "created_at", "paused_at", "rule_id", "rule_queue", "reviewer_role", "amount",
         "max_amount", "limit_amount", "over_every_limit", "priority", "escalated_to", "urgency")

ToBase = Callable[[Any, str | None], float | None]
Snapshot = Any  # a LangGraph StateSnapshot


def urgency(priority: str | None) -> int:
    return PRIORITIES.index(priority) if priority in PRIORITIES else 0


def paused_at(meta: dict, created_at: str) -> float:
    """A customer's note re-asks the review under a new interrupt: the item's age counts from its first pause."""
    opened = meta.get("opened") or {}
    return datetime.fromisoformat(opened.get("at") or created_at).timestamp()


def amounts(args: dict, meta: dict, to_base: ToBase | None) -> tuple[Any, float | None, bool]:
    """(the amount in the policy currency, the amount an approval limit must cover, whether its currency has no
    rate). Who qualifies depends on the largest amount the action has carried (`max_amount`, already in the policy
    currency), not on an amount an edit lowered; an amount without a rate is covered by no limit (infinite)."""
    amount = args.get("amount")
    converted = amount if to_base is None or amount is None else to_base(amount, args.get("currency"))
    unrated = amount is not None and to_base is not None and converted is None
    return converted, (math.inf if unrated else carried_amount(converted, meta.get("max_amount"))), unrated


def _pending(where: str) -> str:
    """Rows with a pending review (not a bare mark), and `where` (SQL over this table's columns)."""
    return f"interrupt_id IS NOT NULL AND ({where})" if where else "interrupt_id IS NOT NULL"


def _finite(v: Any) -> float | None:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    return float(v) if ok else None


class PendingReviews:
    """The index on a `Database` (SQLite or PostgreSQL), beside the review claims whose escalation marks it reads."""

    def __init__(self, target: str | Path | Database, to_base: ToBase | None = None):
        self.db, self.to_base = connect(target), to_base
        ReviewClaims(self.db)  # the escalation marks' table (review_escalations) exists before it is read here
        self.db.script(SCHEMA)

    # ---- the runner's writes: mark before a run, settle after it ---------------------------------------------
    def mark(self, thread_id: str) -> str:
        now = time.time()
        with self.db.connect() as c:
            c.execute("INSERT INTO pending_reviews (thread_id, running_since, running_holder, rev, updated_at) "
                      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (thread_id) DO UPDATE SET running_since = "
                      "excluded.running_since, running_holder = excluded.running_holder, rev = excluded.rev, "
                      "updated_at = excluded.updated_at", (thread_id, now, this_process(), uuid.uuid4().hex, now))
        return thread_id

    def settle(self, thread_id: str, snapshot: Snapshot | None, read: Callable[[], Snapshot]) -> None:
        """The row from the thread's final state (`snapshot`, else `read()`). Never raises: the run's own result is
        what its caller needs; an unsettled mark is repaired by the next inbox read."""
        try:
            self.write(thread_id, snapshot if snapshot is not None else read())
        except Exception as exc:  # noqa: BLE001 - logged; the mark stays for `repair`
            _log.warning("thread %r: pending-review index not updated (repaired on the next inbox read): %s",
                         thread_id, exc)

    async def asettle(self, thread_id: str, snapshot: Snapshot | None, aread: Callable[[], Awaitable]) -> None:
        try:
            snap = snapshot if snapshot is not None else await aread()
            await asyncio.to_thread(self.write, thread_id, snap)
        except Exception as exc:  # noqa: BLE001 - as in settle
            _log.warning("thread %r: pending-review index not updated (repaired on the next inbox read): %s",
                         thread_id, exc)

    def write(self, thread_id: str, snapshot: Snapshot, rev: str | None = None) -> bool:
        """Upsert the pending review of a paused thread, delete the row of any other. With `rev`, only if the row
        is still that version (or, for an upsert, absent): False when something newer was written meanwhile."""
        interrupts = getattr(snapshot, "interrupts", None)
        with self.db.connect() as c:
            if not interrupts:
                sql, params = "DELETE FROM pending_reviews WHERE thread_id = ?", [thread_id]
                if rev is not None:
                    sql, params = sql + " AND rev = ?", [*params, rev]
                return c.execute(sql, params).rowcount == 1 or rev is None
            row = {"thread_id": thread_id, **self.facts(c, thread_id, snapshot), "running_since": None,
                   "running_holder": None, "rev": uuid.uuid4().hex, "updated_at": time.time()}
            cols = list(row)
            sql = (f"INSERT INTO pending_reviews ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                   f"ON CONFLICT (thread_id) DO UPDATE SET "
                   + ", ".join(f"{k} = excluded.{k}" for k in cols[1:]))
            params = [row[k] for k in cols]
            if rev is not None:
                sql, params = sql + " WHERE pending_reviews.rev = ?", [*params, rev]
            return c.execute(sql, params).rowcount == 1

    def facts(self, c, thread_id: str, snapshot: Snapshot) -> dict[str, Any]:
        intr = snapshot.interrupts[0]
        payload = intr.value or {}
        req, meta = (payload.get("action_requests") or [{}])[0], payload.get("metadata") or {}
        converted, limit, _ = amounts(req.get("args") or {}, meta, self.to_base)
        first = (meta.get("opened") or {}).get("review_id")
        esc = self._escalation(c, thread_id, intr.id, first)
        priority = ((snapshot.values or {}).get("compliance") or {}).get("priority") or "normal"
        finite = _finite(limit) if limit is not None else None
        return {"interrupt_id": intr.id, "review_id": first, "created_at": snapshot.created_at,
                "paused_at": paused_at(meta, snapshot.created_at), "rule_id": meta.get("rule_id"),
                "rule_queue": meta.get("queue"), "reviewer_role": meta.get("reviewer_role"),
                "amount": _finite(converted),
                "max_amount": _finite(meta.get("max_amount")), "limit_amount": finite,
                "over_every_limit": int(limit is not None and finite is None), "priority": priority,
                "escalated_to": esc["escalated_to"] if esc else None,
                "urgency": urgency(esc["priority"] if esc else priority)}

    @staticmethod
    def _escalation(c, thread_id: str, interrupt_id: str, first: str | None) -> dict | None:
        """The SLA sweep's mark on this item: under its interrupt, else under its first one (a note re-asked it)."""
        rows = {r["interrupt_id"]: r for r in c.all(
            "SELECT interrupt_id, priority, escalated_to FROM review_escalations WHERE thread_id = ? "
            "AND interrupt_id IN (?, ?)", (thread_id, interrupt_id, first or interrupt_id))}
        return rows.get(interrupt_id) or rows.get(first)

    def escalated(self, thread_id: str, interrupt_id: str, priority: str, escalated_to: str) -> None:
        """The SLA sweep raised this item: it now sorts, and filters, as escalated."""
        with self.db.connect() as c:
            c.execute("UPDATE pending_reviews SET urgency = ?, escalated_to = ?, rev = ?, updated_at = ? "
                      "WHERE thread_id = ? AND (interrupt_id = ? OR review_id = ?)",
                      (urgency(priority), escalated_to, uuid.uuid4().hex, time.time(), thread_id, interrupt_id,
                       interrupt_id))

    # ---- reading ---------------------------------------------------------------------------------------------
    def page(self, where: str = "", params: Iterable = (), limit: int | None = None,
             offset: int = 0) -> list[dict]:
        """Rows with a pending review, most urgent then oldest first; `where` is SQL over this table's columns."""
        sql = f"SELECT * FROM pending_reviews WHERE {_pending(where)} ORDER BY {ORDER} LIMIT ? OFFSET ?"
        with self.db.connect() as c:
            return c.all(sql, [*params, _ALL if limit is None else limit, offset])

    def count(self, where: str = "", params: Iterable = ()) -> int:
        sql = f"SELECT COUNT(*) AS n FROM pending_reviews WHERE {_pending(where)}"
        with self.db.connect() as c:
            return int(c.one(sql, list(params))["n"])

    def escalations(self, thread_ids: list[str]) -> dict[tuple[str, str], dict]:
        """The SLA marks on these threads only (the table keeps every escalation ever made)."""
        out: dict[tuple[str, str], dict] = {}
        with self.db.connect() as c:
            for k in range(0, len(thread_ids), 500):
                chunk = thread_ids[k:k + 500]
                for r in c.all(f"SELECT * FROM review_escalations WHERE thread_id IN ({', '.join('?' * len(chunk))})",
                               chunk):
                    out[(r["thread_id"], r["interrupt_id"])] = r
        return out

    # ---- repair and rebuild ----------------------------------------------------------------------------------
    def repair(self, read: Callable[[str], Snapshot], after: float = REPAIR_AFTER) -> int:
        """Settle the marks runs left unsettled: their process has exited, or they are older than `after` seconds
        (a live run settles its row again when it ends). Returns how many were settled."""
        with self.db.connect() as c:
            marks = c.all("SELECT thread_id, rev, running_since, running_holder FROM pending_reviews "
                          "WHERE running_since IS NOT NULL")
        now, done = time.time(), 0
        for m in marks:
            if m["running_since"] < now - after or holder_gone(m["running_holder"]):
                done += self.write(m["thread_id"], read(m["thread_id"]), rev=m["rev"])
        return done

    def rebuild(self, thread_ids: Iterable[str], read: Callable[[str], Snapshot]) -> dict[str, int]:
        """The index from the checkpointer: every thread read once (`review reindex`, and `db upgrade` on a
        deployment whose index was never built). Safe while runs go on: rows they write meanwhile are kept."""
        with self.db.connect() as c:
            before = {r["thread_id"]: r["rev"] for r in c.all("SELECT thread_id, rev FROM pending_reviews")}
        threads = pending = removed = 0
        for tid in thread_ids:
            threads += 1
            snap, rev = read(tid), before.pop(tid, "")  # "": the row was absent (insert it, unless one appeared)
            if snap.interrupts:
                pending += 1
                self.write(tid, snap, rev=rev)
            elif rev:
                removed += self.write(tid, snap, rev=rev)
        for tid, rev in before.items():  # rows of threads the checkpointer no longer has
            removed += self.write(tid, None, rev=rev)
        with self.db.connect() as c:
            c.execute("INSERT INTO pending_reviews_builds VALUES ('checkpointer', ?, ?, ?) ON CONFLICT (name) DO "
                      "UPDATE SET built_at = excluded.built_at, threads = excluded.threads, pending = excluded.pending",
                      (time.time(), threads, pending))
        return {"threads": threads, "pending": pending, "removed": removed}

    def built(self) -> dict | None:
        """When the index was last built from the checkpointer (None: never, e.g. a deployment older than it)."""
        with self.db.connect() as c:
            return c.one("SELECT * FROM pending_reviews_builds WHERE name = 'checkpointer'")
