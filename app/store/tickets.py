"""Durable ticket store with idempotency keys: a replayed or resumed run never creates a ticket twice.

Lifecycle: new → open → pending_customer → solved → closed, plus reopened (only from solved); closed is final.
Statuses move through `set_status`, a compare-and-set in one transaction with its `ticket_events` row, so two
people changing one ticket at once either both land in order or the second is re-checked against the first.

"approved" (what agents/ticketing/nodes.py writes for an action policy or a reviewer approved, and what older rows hold)
is not a status of its own: the action was decided and carried out in the turn, so the ticket is `solved` with
`resolution: "approved"` and `solved_at` = its creation. Such a ticket is a record, not work: a customer writing
again does not reopen it (`reopenable`).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.store.db import Database, connect
from app.store.handoff import Handoff
from app.store.ticket_lifecycle import (
    EVENT_KINDS,
    LEGACY,
    STATUSES,
    TicketConflictError,
    TicketError,
    UnknownTicketError,
    check_transition,
)
from app.store.ticket_times import ResponseTimes

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    thread_id TEXT NOT NULL,
    customer_id TEXT,
    intent TEXT,
    priority TEXT NOT NULL,
    queue TEXT,
    status TEXT NOT NULL,
    summary TEXT NOT NULL,
    action TEXT NOT NULL,
    policy TEXT NOT NULL,
    reviewer TEXT,
    llm_calls INTEGER NOT NULL DEFAULT 0,
    tokens INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_thread ON tickets(thread_id);
CREATE TABLE IF NOT EXISTS ticket_events (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ticket_events_ticket ON ticket_events(ticket_id, created_at);
CREATE TABLE IF NOT EXISTS notifications (
    idempotency_key TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    channel TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""

JSON_FIELDS = ("action", "policy")
COLUMNS = (("assignee", "TEXT"), ("resolution", "TEXT"), ("first_response_at", "REAL"), ("solved_at", "REAL"),
           ("closed_at", "REAL"), ("external_ref", "TEXT"), ("amount", "REAL"),
           ("held_by", "TEXT"),  # held_by: the person the conversation is handed to (app/store/handoff.py)
           ("asked_at", "REAL"))  # when the customer asked: first response and resolution count from it


class TicketStore(Handoff, ResponseTimes):
    def __init__(self, target: str | Path | Database):
        self.db = connect(target)
        self.db.script(SCHEMA)
        for column, decl in COLUMNS:
            self.db.add_column("tickets", column, decl)
        with self.db.connect() as c:  # rows written before the lifecycle (idempotent)
            for old, (status, resolution) in LEGACY.items():
                c.execute("UPDATE tickets SET status = ?, resolution = ?, solved_at = created_at WHERE status = ?",
                          (status, resolution, old))

    @staticmethod
    def ticket_id(key: str) -> str:
        return "T-" + hashlib.sha256(key.encode()).hexdigest()[:10].upper()

    def create(self, key: str, **fields: Any) -> tuple[dict, bool]:
        """Insert once per idempotency key; returns (ticket, created_now)."""
        now = time.time()
        row = {
            "id": self.ticket_id(key), "idempotency_key": key, "status": "new", "priority": "normal",
            "created_at": now, "updated_at": now, **fields,
        }
        if row["status"] in LEGACY:
            row["status"], row["resolution"] = LEGACY[row["status"]]
        if row["status"] not in STATUSES:
            raise TicketError(f"unknown status {row['status']!r}; one of: {', '.join(STATUSES)}")
        if row["status"] == "solved":
            row.setdefault("solved_at", row["created_at"])
        for f in JSON_FIELDS:
            row[f] = json.dumps(row.get(f) or {}, sort_keys=True)
        cols = ", ".join(row)
        marks = ", ".join(f":{k}" for k in row)
        with self.db.connect() as c:
            cur = c.execute(f"INSERT INTO tickets ({cols}) VALUES ({marks}) ON CONFLICT DO NOTHING", row)
            created = cur.rowcount == 1
            got = c.one("SELECT * FROM tickets WHERE idempotency_key = ?", (key,))
        return self._row(got), created

    def notify(self, key: str, ticket_id: str, channel: str, body: str) -> bool:
        with self.db.connect() as c:
            cur = c.execute("INSERT INTO notifications VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                            (key, ticket_id, channel, body, time.time()))
            return cur.rowcount == 1

    def get(self, ticket_id: str) -> dict | None:
        with self.db.connect() as c:
            row = c.one("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
        return self._row(row) if row else None

    def list(self, thread_id: str | None = None, status: str | None = None, limit: int = 200,
             queue: str | None = None, assignee: str | None = None, customer_id: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM tickets WHERE 1=1", []
        for column, value in (("thread_id", thread_id), ("status", status), ("queue", queue), ("assignee", assignee),
                              ("customer_id", customer_id)):
            if value:
                sql, args = sql + f" AND {column} = ?", [*args, value]
        with self.db.connect() as c:
            rows = c.all(sql + " ORDER BY created_at DESC LIMIT ?", [*args, limit])
        return [self._row(r) for r in rows]

    # ---- the lifecycle: every change is one transaction with its event row ---------------------------------
    def require(self, ticket_id: str) -> dict:
        ticket = self.get(ticket_id)
        if ticket is None:
            raise UnknownTicketError(f"unknown ticket {ticket_id!r}")
        return ticket

    def add_event(self, ticket_id: str, kind: str, actor: str, body: str = "", event_id: str | None = None,
                  status: str | None = None, guard: Callable[[dict], None] | None = None) -> dict:
        """Append an event; a reply also stamps the first response, and `status` moves the ticket in the same
        transaction. Appends never overwrite each other, so two people writing at once both keep their text.
        `guard(ticket)` runs on the row under the ticket's lock and refuses by raising (app/ticket_scope.py)."""
        if kind not in EVENT_KINDS:
            raise TicketError(f"unknown event kind {kind!r}; one of: {', '.join(EVENT_KINDS)}")
        now = time.time()
        event = {"id": event_id or uuid.uuid4().hex, "ticket_id": ticket_id, "kind": kind, "actor": actor,
                 "body": body, "created_at": now}
        with self.db.transaction(lock=f"ticket:{ticket_id}") as c:
            ticket = c.one("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
            if ticket is None:
                raise UnknownTicketError(f"unknown ticket {ticket_id!r}")
            if guard is not None:
                guard(self._row(ticket))
            c.execute("INSERT INTO ticket_events (id, ticket_id, kind, actor, body, created_at) "
                      "VALUES (:id, :ticket_id, :kind, :actor, :body, :created_at)", event)
            if kind == "reply":  # a person answered: the conversation is theirs (app/store/handoff.py)
                c.execute("UPDATE tickets SET first_response_at = COALESCE(first_response_at, ?), updated_at = ?, "
                          "held_by = ? WHERE id = ?", (now, now, actor, ticket_id))
            elif kind == "handback":
                c.execute("UPDATE tickets SET held_by = NULL, updated_at = ? WHERE id = ?", (now, ticket_id))
            if status is not None:
                self._move(c, ticket, status, now)
        return event

    def set_status(self, ticket_id: str, status: str, actor: str, reason: str = "",
                   guard: Callable[[dict], None] | None = None) -> dict:
        """Move the ticket (validated against TRANSITIONS); returns the event recorded."""
        return self.add_event(ticket_id, "status", actor, reason or status, status=status, guard=guard)

    def assign(self, ticket_id: str, actor: str, assignee: str | None = None, queue: str | None = None,
               guard: Callable[[dict], None] | None = None) -> dict:
        """Give the ticket to a person and/or a queue; a `new` ticket someone took is `open`."""
        if not assignee and not queue:
            raise TicketError("assign to a person or a queue")
        now = time.time()
        body = ", ".join(f"{k}={v}" for k, v in (("assignee", assignee), ("queue", queue)) if v)
        event = {"id": uuid.uuid4().hex, "ticket_id": ticket_id, "kind": "assign", "actor": actor, "body": body,
                 "created_at": now}
        with self.db.transaction(lock=f"ticket:{ticket_id}") as c:
            ticket = c.one("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
            if ticket is None:
                raise UnknownTicketError(f"unknown ticket {ticket_id!r}")
            if guard is not None:
                guard(self._row(ticket))
            if ticket["status"] == "closed":
                raise TicketConflictError("ticket is closed; closed is final")
            c.execute("UPDATE tickets SET assignee = COALESCE(?, assignee), queue = COALESCE(?, queue), "
                      "held_by = CASE WHEN status IN ('solved', 'closed') THEN held_by ELSE COALESCE(?, held_by) END, "
                      "updated_at = ? WHERE id = ?", (assignee, queue, assignee, now, ticket_id))
            c.execute("INSERT INTO ticket_events (id, ticket_id, kind, actor, body, created_at) "
                      "VALUES (:id, :ticket_id, :kind, :actor, :body, :created_at)", event)
            if ticket["status"] == "new":
                self._move(c, ticket, "open", now)
        return event

    @staticmethod
    def _move(c, ticket: dict, status: str, now: float) -> None:
        check_transition(ticket["status"], status)
        stamps = {"solved": ", solved_at = :now, held_by = NULL", "closed": ", closed_at = :now, held_by = NULL",
                  "reopened": ", solved_at = NULL"}  # solving hands the conversation back to the desk
        resolution = ", resolution = NULL" if status == "reopened" else ""
        cur = c.execute(f"UPDATE tickets SET status = :to, updated_at = :now{stamps.get(status, '')}{resolution} "
                        "WHERE id = :id AND status = :was",
                        {"to": status, "now": now, "id": ticket["id"], "was": ticket["status"]})
        if cur.rowcount != 1:  # unreachable under the ticket's lock; kept so a change is never applied blind
            raise TicketConflictError(f"ticket {ticket['id']} changed while moving it to {status}; try again")

    def settle(self, ticket_id: str, execution: dict, amount: float | None = None) -> None:
        """What carrying out the ticket's action in a company system came to (agents/ticketing/execute.py): executed
        or refused solves it with the system's reference; failed and dry_run leave it open for a person, with a note
        of the error or of the exact call planned. Idempotent: a re-run adds no second event."""
        status = execution["status"]
        note = {"executed": f"Executed {execution['operation']} (reference {execution.get('reference')}).",
                "refused": f"The system refused {execution['operation']}: {execution.get('message')}",
                "failed": f"Could not complete {execution['operation']} after retries: {execution.get('error')}. "
                          "Complete it by hand (same idempotency key) or run `python -m app actions reconcile`.",
                "dry_run": f"Dry run: planned {execution['operation']} with key {execution['key']}; complete it by "
                           "hand."}.get(status, status)
        if execution.get("already"):
            note = f"Asked again: {execution['operation']} was carried out once, for an earlier message " \
                   f"(reference {execution.get('reference')}); not called again."
        with self.db.transaction(lock=f"ticket:{ticket_id}") as c:
            ticket = c.one("SELECT * FROM tickets WHERE id = ?", (ticket_id,))
            if ticket is None:
                raise UnknownTicketError(f"unknown ticket {ticket_id!r}")
            event_id = f"{ticket_id}:execution:{execution['key']}:{status}"
            if c.one("SELECT id FROM ticket_events WHERE id = ?", (event_id,)):
                return
            now = time.time()
            c.execute("INSERT INTO ticket_events (id, ticket_id, kind, actor, body, created_at) "
                      "VALUES (?, ?, 'note', 'agent:ticketing', ?, ?)", (event_id, ticket_id, note, now))
            c.execute("UPDATE tickets SET external_ref = COALESCE(?, external_ref), amount = COALESCE(?, amount), "
                      "updated_at = ? WHERE id = ?", (execution.get("reference"), amount, now, ticket_id))
            if status in ("executed", "refused") and ticket["status"] != "solved":
                self._move(c, ticket, "solved", now)
                c.execute("UPDATE tickets SET resolution = ? WHERE id = ?", (status, ticket_id))
            elif status == "failed":
                c.execute("UPDATE tickets SET priority = 'high' WHERE id = ? AND priority IN ('low', 'normal')",
                          (ticket_id,))

    def events(self, ticket_id: str, kinds: tuple[str, ...] | None = None) -> list[dict]:
        with self.db.connect() as c:
            rows = c.all("SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY created_at, id", (ticket_id,))
        return [r for r in rows if kinds is None or r["kind"] in kinds]

    def count_recent(self, customer_id: str, action: str, days: int) -> int:
        since = time.time() - days * 86400
        with self.db.connect() as c:
            action_name = self.db.json_text("action", "name")
            row = c.one(f"SELECT COUNT(*) AS n FROM tickets WHERE customer_id = ? AND {action_name} = ? "
                        "AND created_at >= ?", (customer_id, action, since))
        return int(row["n"])

    def action_amounts(self, action: str, thread_id: str | None = None, customer_id: str | None = None,
                       order_id: str | None = None, since: float = 0.0) -> list[dict]:
        """Tickets of `action` on this thread, for this customer (created since `since`) or for this order:
        {key, thread_id, customer_id, args}, what compliance adds up against a total limit
        (agents/compliance/nodes.py)."""
        order = ("((action)::jsonb -> 'args' ->> 'order_id')" if self.db.postgres
                 else "json_extract(action, '$.args.order_id')")
        where, args = [], []
        for sql, values in (("thread_id = ?", (thread_id,)), ("(customer_id = ? AND created_at >= ?)",
                                                             (customer_id, since)), (f"{order} = ?", (order_id,))):
            if values[0]:
                where, args = [*where, sql], [*args, *(str(v) if isinstance(v, str) else v for v in values)]
        if not where:
            return []
        with self.db.connect() as c:
            rows = c.all(f"SELECT idempotency_key, thread_id, customer_id, action FROM tickets WHERE "
                         f"{self.db.json_text('action', 'name')} = ? AND ({' OR '.join(where)})", [action, *args])
        return [{"key": r["idempotency_key"], "thread_id": r["thread_id"], "customer_id": r["customer_id"],
                 "args": (json.loads(r["action"]) or {}).get("args") or {}} for r in rows]

    def notifications(self, ticket_id: str) -> list[dict]:
        with self.db.connect() as c:
            return c.all("SELECT * FROM notifications WHERE ticket_id = ?", (ticket_id,))

    @staticmethod
    def _row(row: dict) -> dict:
        d = dict(row)
        for f in JSON_FIELDS:
            d[f] = json.loads(d[f])
        return d
