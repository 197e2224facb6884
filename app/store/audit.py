"""Append-only, hash-chained audit trail: who decided what, why, on which evidence.

Each entry's hash covers its content and the previous entry's hash, so an edited, deleted
or reordered entry breaks the chain at a point `verify()` names. Entries carry an
idempotency key, so a replayed node does not log the same decision twice.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.store.db import Database, connect
from knowledge.pii import redact

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    ts REAL NOT NULL,
    thread_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    actor TEXT NOT NULL,
    event TEXT NOT NULL,
    reason TEXT NOT NULL,
    evidence TEXT NOT NULL,
    model TEXT,
    tokens INTEGER NOT NULL DEFAULT 0,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_thread ON audit(thread_id, seq)
"""
SQLITE_GUARDS = """
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
"""
PG_GUARDS = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'audit trail is append-only'; END $$;
CREATE OR REPLACE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE OR REPLACE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
"""
GENESIS = "0" * 64
FIELDS = ("key", "ts", "thread_id", "agent", "actor", "event", "reason", "evidence", "model", "tokens")


def entry_hash(prev_hash: str, row: dict[str, Any]) -> str:
    body = json.dumps({f: row[f] for f in FIELDS}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


@dataclass
class VerifyReport:
    ok: bool
    entries: int
    problem: str | None = None
    seq: int | None = None


class AuditLog:
    def __init__(self, target: str | Path | Database):
        self.db = connect(target)
        self.db.script(SCHEMA, pg_extra=PG_GUARDS, sqlite_extra=SQLITE_GUARDS)

    def record(self, key: str, thread_id: str, agent: str, event: str, reason: str = "",
               actor: str | None = None, evidence: dict | None = None, model: str | None = None,
               tokens: int = 0) -> bool:
        """Append one entry (personal data redacted); False if this key was already logged."""
        row = {
            "key": key, "ts": round(time.time(), 6), "thread_id": thread_id, "agent": agent,
            "actor": actor or f"agent:{agent}", "event": event, "reason": redact(reason or ""),
            "evidence": redact(json.dumps(evidence or {}, sort_keys=True, default=str)),
            "model": model, "tokens": int(tokens),
        }
        with self.db.transaction(lock="audit-chain") as c:  # writers extend the chain one at a time
            if c.one("SELECT 1 AS x FROM audit WHERE key = ?", (key,)):
                return False
            last = c.one("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
            prev = last["hash"] if last else GENESIS
            row["seq"] = last["seq"] + 1 if last else 1  # explicit: no sequence gaps after rollbacks
            row["prev_hash"], row["hash"] = prev, entry_hash(prev, row)
            cols = ", ".join(row)
            c.execute(f"INSERT INTO audit ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
        return True

    def entries(self, thread_id: str | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM audit", ()
        if thread_id:
            sql, args = sql + " WHERE thread_id = ?", (thread_id,)
        with self.db.connect() as c:
            rows = c.all(sql + " ORDER BY seq", args)
        for d in rows:
            d["evidence"] = json.loads(d["evidence"])
        return rows

    def verify(self) -> VerifyReport:
        """Walk the chain; name the first entry that was edited, removed or moved."""
        with self.db.connect() as c:
            rows = c.all("SELECT * FROM audit ORDER BY seq")
        prev, expected_seq = GENESIS, None
        for r in rows:
            if expected_seq is not None and r["seq"] != expected_seq:
                problem = f"entry missing before seq {r['seq']} (expected {expected_seq})"
            elif r["prev_hash"] != prev:
                problem = f"seq {r['seq']}: chain broken (deleted or reordered entry before it)"
            elif entry_hash(prev, r) != r["hash"]:
                problem = f"seq {r['seq']}: content does not match its hash (edited)"
            else:
                problem = None
            if problem:
                return VerifyReport(False, len(rows), problem, r["seq"])
            prev, expected_seq = r["hash"], r["seq"] + 1
        return VerifyReport(True, len(rows))
