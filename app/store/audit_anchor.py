"""The audit trail's head anchor: how far the trail had reached, signed, in a file outside the database.

A hash chain proves that the entries it holds link up, not that none are missing at the end: deleting the newest
entries (or all of them) leaves a shorter chain that still verifies. The anchor records the newest entry's seq and
hash, HMAC-signed with the audit key, so `verify` can tell. It is written after the entry's commit, while a host-wide
file lock keeps writers in order, so it can lag the table (a writer killed between its commit and the anchor write)
but never lead it: entries beyond the anchor are accepted, fewer are a truncation.

The anchor is fsynced; a SQLite database in WAL mode with synchronous=NORMAL is not, so a power loss (not a killed
process) can take its last commits and leave the anchor ahead: `verify` then reports the truncation that happened.

Each writer only moves the anchor forward, never creates a missing one after the trail began and never overwrites a
bad one: a deleted or forged anchor stays visible to `verify` until an operator runs `audit reseal`.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.logs import get_logger

FORMAT = "supportflow-audit-head/1"
log = get_logger("audit")


class AnchorError(Exception):
    """The anchor file exists but cannot be trusted: unreadable, signed with another key, or for another database."""


@dataclass(frozen=True)
class Head:
    entries: int      # seq of the newest anchored entry (seqs run 1, 2, 3, … without gaps)
    hash: str         # that entry's hash
    keyed_from: int   # entries before this seq were written unkeyed, before the upgrade; none may follow it


def db_label(target: str | Path) -> str:
    """A stable name for the database an anchor belongs to: its file stem, or the PostgreSQL database name."""
    if isinstance(target, str) and target.startswith(("postgresql://", "postgres://")):
        from psycopg.conninfo import conninfo_to_dict  # only a PostgreSQL deployment has the driver loaded anyway

        label = f"pg-{conninfo_to_dict(target).get('dbname') or 'postgres'}"
    else:
        label = f"sqlite-{Path(target).stem}"
    return re.sub(r"[^\w.-]", "_", label)


class Anchor:
    def __init__(self, path: Path, key: bytes, db: str):
        self.path, self.key, self.db = Path(path), key, db
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    def _mac(self, body: dict) -> str:
        msg = b"audit-head\0" + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        return hmac.new(self.key, msg, hashlib.sha256).hexdigest()

    def exists(self) -> bool:
        return self.path.exists()

    def document(self) -> dict | None:
        """The signed anchor as stored (for export and external sealing); None if there is none."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AnchorError(f"head anchor {self.path} unreadable: {exc}") from exc
        try:
            doc = json.loads(text)
            body = {k: v for k, v in doc.items() if k != "mac"}
            mac = doc["mac"]
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise AnchorError(f"head anchor {self.path} is not a signed anchor (corrupted or replaced)") from exc
        if not isinstance(mac, str) or not hmac.compare_digest(mac, self._mac(body)):
            raise AnchorError(f"head anchor {self.path}: signature invalid (forged, or signed with another "
                              "SUPPORT_SECRET_KEY)")
        if body.get("format") != FORMAT or body.get("db") != self.db:
            raise AnchorError(f"head anchor {self.path} belongs to database {body.get('db')!r}, not {self.db!r}")
        return doc

    def read(self) -> Head | None:
        doc = self.document()
        if doc is None:
            return None
        try:
            return Head(int(doc["entries"]), str(doc["hash"]), int(doc["keyed_from"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise AnchorError(f"head anchor {self.path} lacks its fields") from exc

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the host-wide anchor lock: a new open file each time, so threads of one process exclude each other."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # released by close, or by the kernel when the process dies
            yield

    def write(self, head: Head) -> None:
        """Replace the anchor atomically (call under `locked()`): a reader sees the old file or the new, never half."""
        body = {"format": FORMAT, "db": self.db, **asdict(head),
                "written_at": datetime.now(UTC).isoformat(timespec="seconds")}
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w") as fh:
            json.dump({**body, "mac": self._mac(body)}, fh, sort_keys=True, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def advance(self, entries: int, hash_: str) -> None:
        """Move the anchor forward to a committed entry (under `locked()`); never back, never over a bad one."""
        try:
            head = self.read()
        except AnchorError as exc:
            log.warning("audit head anchor not advanced to seq %s: %s (run `audit verify`)", entries, exc)
            return
        if head is None:
            log.warning("audit head anchor %s missing: not advanced to seq %s (run `audit verify`)", self.path, entries)
            return
        if entries > head.entries:
            try:
                self.write(Head(entries, hash_, head.keyed_from))
            except OSError as exc:  # the entry is committed; an anchor that lags is tolerated, so don't fail the caller
                log.error("audit head anchor %s not advanced to seq %s: %s", self.path, entries, exc)
