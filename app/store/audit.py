"""Append-only, keyed hash-chained audit trail: who decided what, why, on which evidence.

Each entry's hash is an HMAC over its content and the previous entry's hash, keyed with `subkey(settings, "audit")`
(app/store/keys.py, a key kept outside the database): an edited, deleted, reordered or forged entry breaks the chain at
a point `verify()` names, and without the key nobody can recompute it. A chain cannot show that its newest entries
are gone, so a signed head anchor outside the table (app/store/audit_anchor.py) records how far it reached; and
`verify()` checks that the append-only triggers are still in place and still fire (app/store/audit_guards.py).
Entries carry an idempotency key, so a replayed node does not log the same decision twice.

Entries written before keyed hashes have `hash_alg` NULL and a plain SHA-256 hash. They are accepted only as the
trail's prefix: when an unkeyed trail is first opened, the anchor is written at its end with `keyed_from` = the next
seq, which seals them (the anchor is signed) and makes any unkeyed entry after them a forgery.

Whoever holds the key and the database (and can write the anchor) can still rewrite history; `audit export-head`
prints the anchor for sealing somewhere they cannot reach.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.logs import get_logger
from app.settings import Settings, get_settings
from app.store import audit_guards
from app.store.audit_anchor import Anchor, AnchorError, Head, db_label
from app.store.db import Database, connect
from app.store.keys import subkey
from knowledge.pii import redact, redact_value

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
GENESIS = "0" * 64
HMAC_ALG = "hmac-sha256"
log = get_logger("audit")
FIELDS = ("key", "ts", "thread_id", "agent", "actor", "event", "reason", "evidence", "model", "tokens")


def _body(row: dict[str, Any]) -> str:
    return json.dumps({f: row[f] for f in FIELDS}, sort_keys=True, separators=(",", ":"))


def entry_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """The unkeyed hash of entries written before the upgrade (anyone can recompute it: checked only in the prefix)."""
    return hashlib.sha256((prev_hash + _body(row)).encode()).hexdigest()


def entry_mac(key: bytes, prev_hash: str, row: dict[str, Any]) -> str:
    return hmac.new(key, b"audit-entry\0" + (prev_hash + _body(row)).encode(), hashlib.sha256).hexdigest()


class AuditError(Exception):
    """An audit operation refused (e.g. resealing a chain that does not verify)."""


@dataclass
class VerifyReport:
    ok: bool
    entries: int
    problem: str | None = None      # the first of `problems`
    seq: int | None = None          # the first entry the chain check found wrong
    problems: list[str] = field(default_factory=list)
    anchored: int | None = None     # entries the head anchor vouches for (None: no usable anchor)
    unkeyed: int = 0                # entries from before keyed hashes, sealed by the anchor


def _default_settings(db: Database) -> Settings:
    """The key and anchor of a store opened without settings: the data directory holding the SQLite file, or the
    process's configured settings for PostgreSQL."""
    return get_settings() if db.postgres else Settings(data_dir=Path(db.target).parent)


def _first_keyed(rows: list[dict]) -> int:
    return next((n for n, r in enumerate(rows, 1) if r.get("hash_alg") is not None), len(rows) + 1)


class AuditLog:
    def __init__(self, target: str | Path | Database, settings: Settings | None = None, anchor: Path | None = None):
        """`settings` gives the key and the anchor's directory (`data_dir`); `anchor` overrides the anchor file."""
        self.db = connect(target)
        self.db.script(SCHEMA, pg_extra=audit_guards.PG_GUARDS, sqlite_extra=audit_guards.SQLITE_GUARDS)
        self.db.add_column("audit", "hash_alg", "TEXT")
        settings = settings or _default_settings(self.db)
        self.key = subkey(settings, "audit")
        label = db_label(self.db.target)
        self.anchor = Anchor(anchor or Path(settings.data_dir) / f"audit-{label}.head", self.key, label)
        self._seal_if_new()

    def _seal_if_new(self) -> None:
        """Anchor a trail that has none yet: an empty one, or one written entirely before keyed hashes."""
        if self.anchor.exists():
            return
        try:
            with self.anchor.locked():
                if self.anchor.exists():
                    return
                with self.db.connect() as c:
                    last = c.one("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
                    keyed = c.one("SELECT 1 AS x FROM audit WHERE hash_alg IS NOT NULL LIMIT 1")
                if keyed:  # anchored once, and the anchor is gone: leave that for verify to report
                    log.warning("audit head anchor %s is missing for a keyed trail (run `audit verify`)",
                                self.anchor.path)
                    return
                n = last["seq"] if last else 0
                self.anchor.write(Head(n, last["hash"] if last else GENESIS, n + 1))
        except OSError as exc:
            log.warning("audit head anchor %s not created: %s", self.anchor.path, exc)

    def record(self, key: str, thread_id: str, agent: str, event: str, reason: str = "",
               actor: str | None = None, evidence: dict | None = None, model: str | None = None,
               tokens: int = 0) -> bool:
        """Append one entry (personal data redacted); False if this key was already logged."""
        row = {
            "key": key, "ts": round(time.time(), 6), "thread_id": thread_id, "agent": agent,
            "actor": actor or f"agent:{agent}", "event": event, "reason": redact(reason or ""),
            "evidence": _evidence_json(evidence or {}),
            "model": model, "tokens": int(tokens),
        }
        with self.anchor.locked():  # commits and anchor writes of this host's writers stay in one order
            head = self._append(row)
            if head is not None:
                self.anchor.advance(*head)  # after the commit: the anchor may lag the table, never lead it
        return head is not None

    def _append(self, row: dict[str, Any]) -> tuple[int, str] | None:
        with self.db.transaction(lock="audit-chain") as c:  # writers on every host extend the chain one at a time
            if c.one("SELECT 1 AS x FROM audit WHERE key = ?", (row["key"],)):
                return None
            last = c.one("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
            prev = last["hash"] if last else GENESIS
            row["seq"] = last["seq"] + 1 if last else 1  # explicit: no sequence gaps after rollbacks
            row["hash_alg"] = HMAC_ALG
            row["prev_hash"], row["hash"] = prev, entry_mac(self.key, prev, row)
            cols = ", ".join(row)
            c.execute(f"INSERT INTO audit ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
        return row["seq"], row["hash"]

    def entries(self, thread_id: str | None = None) -> list[dict[str, Any]]:
        sql, args = "SELECT * FROM audit", ()
        if thread_id:
            sql, args = sql + " WHERE thread_id = ?", (thread_id,)
        with self.db.connect() as c:
            rows = c.all(sql + " ORDER BY seq", args)
        for d in rows:
            d["evidence"] = json.loads(d["evidence"])
        return rows

    def _walk(self, rows: list[dict], keyed_from: int) -> tuple[int, str] | None:
        """The first entry that was edited, removed, moved or forged, and why; None if the chain holds."""
        prev = GENESIS
        for n, r in enumerate(rows, 1):
            s, alg = r["seq"], r.get("hash_alg")
            if s != n:
                return s, f"entries missing before seq {s} (expected seq {n})"
            if r["prev_hash"] != prev:
                return s, f"seq {s}: chain broken (deleted or reordered entry before it)"
            if alg == HMAC_ALG:
                if not hmac.compare_digest(entry_mac(self.key, prev, r), r["hash"]):
                    return s, (f"seq {s}: content does not match its keyed hash (edited, forged without the key, "
                               "or a different SUPPORT_SECRET_KEY)")
            elif alg is not None:
                return s, f"seq {s}: unknown hash algorithm {alg!r} (forged)"
            elif s >= keyed_from:
                return s, f"seq {s}: unkeyed entry after the trail was keyed at seq {keyed_from} (forged)"
            elif entry_hash(prev, r) != r["hash"]:
                return s, f"seq {s}: content does not match its hash (edited)"
            prev = r["hash"]
        return None

    def verify(self) -> VerifyReport:
        """Check the chain, the head anchor and the guards; name everything that is wrong."""
        try:  # the anchor before the rows: it is written after its entry commits, so these rows include that entry
            head, anchor_problem = self.anchor.read(), None
        except AnchorError as exc:
            head, anchor_problem = None, str(exc)
        with self.db.connect() as c:
            rows = c.all("SELECT * FROM audit ORDER BY seq")
            problems = audit_guards.problems(c)
        broken = self._walk(rows, head.keyed_from if head else _first_keyed(rows))
        if anchor_problem:
            problems.insert(0, anchor_problem)
        elif head is None and rows:
            problems.insert(0, f"head anchor {self.anchor.path} is missing, so deleted newest entries would go "
                               "unnoticed (restore it, or check the trail and run `audit reseal`)")
        elif head is not None and head.entries:
            anchored = next((r for r in rows if r["seq"] == head.entries), None)
            last = rows[-1]["seq"] if rows else 0
            if anchored is None:
                problems.insert(0, f"truncated: the head anchor vouches for {head.entries} entries, the table "
                                   f"ends at seq {last} (newest entries deleted)")
            elif anchored["hash"] != head.hash:
                problems.insert(0, f"seq {head.entries}: differs from the head anchor (rewritten)")
        if broken:
            problems.insert(0, broken[1])
        return VerifyReport(not problems, len(rows), problems[0] if problems else None,
                            broken[0] if broken else None, problems, head.entries if head else None,
                            sum(r.get("hash_alg") is None for r in rows))

    def export_head(self) -> dict | None:
        """The signed anchor, for sealing outside this deployment (raises AnchorError if it cannot be trusted)."""
        return self.anchor.document()

    def reseal(self, actor: str, reason: str) -> VerifyReport:
        """Anchor the current end of an intact chain (after a restored backup or a lost anchor), and audit why."""
        with self.anchor.locked():
            try:
                head, previous = self.anchor.read(), None
            except AnchorError as exc:
                head, previous = None, str(exc)
            with self.db.connect() as c:
                rows = c.all("SELECT * FROM audit ORDER BY seq")
            keyed_from = head.keyed_from if head else _first_keyed(rows)
            broken = self._walk(rows, keyed_from)
            if broken:
                raise AuditError(f"the chain itself is broken, resealing would hide it: {broken[1]}")
            evidence = {"previous_anchor_entries": head.entries if head else None, "table_entries": len(rows),
                        "previous_anchor_problem": previous or (None if head else "missing")}
            row = {"key": f"audit:reseal:{uuid.uuid4().hex}", "ts": round(time.time(), 6), "thread_id": "-",
                   "agent": "audit", "actor": actor, "event": "audit_resealed", "reason": redact(reason),
                   "evidence": _evidence_json(evidence), "model": None, "tokens": 0}
            seq, hash_ = self._append(row)
            self.anchor.write(Head(seq, hash_, keyed_from))
        return self.verify()


def _evidence_json(evidence: Any) -> str:
    """Evidence as stored: redacted value by value, then serialised. Redacting the serialised text instead can cut
    through its quoting (a redacted span crossing a `"`) and leave JSON that no longer parses."""
    plain = json.loads(json.dumps(evidence, default=str))  # only JSON types left, so every string is seen
    return json.dumps(redact_value(plain), sort_keys=True)
