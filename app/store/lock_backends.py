"""How the database keeps a thread's lock (app/store/thread_locks.py is the protocol around it).

- SQLite: a lease row per busy thread. `try_acquire` inserts it, or takes over a lease whose holder is gone (same
  host, pid not running), stale (not renewed for `stale_after` seconds) or leaked by this very process, atomically
  from the holder that was read, like a review claim.
- PostgreSQL: a session-level advisory lock on a 64-bit hash of the thread id, on one connection per process
  dedicated to these locks (not from the stores' pool, which a held lock would starve). The server drops a dead
  session's locks; the session's locks are re-entrant, so the process keeps which threads it holds itself.

Each backend answers try_acquire (a token, or None when busy), renew (still held?) and release; none of them waits.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import uuid

from app.store.db import Database
from app.store.review_claims import holder_gone, this_process  # one notion of a live holder

_log = logging.getLogger("supportflow.locks")

SCHEMA = """
CREATE TABLE IF NOT EXISTS thread_locks (
    thread_id TEXT PRIMARY KEY,
    token TEXT NOT NULL,             -- this hold (a takeover replaces it)
    holder TEXT NOT NULL,            -- host:pid of the process running the thread
    acquired_at REAL NOT NULL,
    renewed_at REAL NOT NULL
)
"""


# ---- SQLite: lease rows ------------------------------------------------------------------------------
_live_tokens: set[str] = set()  # holds this process has not released (a row of ours not in here leaked)
_live_mutex = threading.Lock()


class LeaseLocks:
    def __init__(self, db: Database, stale_after: float):
        self.db, self.stale_after, self.key = db, stale_after, str(db.target)
        self.db.script(SCHEMA)

    def try_acquire(self, thread_id: str) -> str | None:
        token, now, me = uuid.uuid4().hex, time.time(), this_process()
        with _live_mutex:
            _live_tokens.add(token)
        try:
            with self.db.connect() as c:
                if c.execute("INSERT INTO thread_locks VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                             (thread_id, token, me, now, now)).rowcount == 1:
                    return token
                row = c.one("SELECT * FROM thread_locks WHERE thread_id = ?", (thread_id,))
                if row is not None and self._abandoned(row, now) and c.execute(
                        "UPDATE thread_locks SET token = ?, holder = ?, acquired_at = ?, renewed_at = ? "
                        "WHERE thread_id = ? AND token = ?",
                        (token, me, now, now, thread_id, row["token"])).rowcount == 1:
                    _log.warning("thread %r: took over the lock of %s (held since %.0f)", thread_id,
                                 row["holder"], row["acquired_at"])
                    return token
        except BaseException:
            self._forget(token)
            raise
        self._forget(token)
        return None

    def _abandoned(self, row: dict, now: float) -> bool:
        if row["renewed_at"] < now - self.stale_after or holder_gone(row["holder"]):
            return True
        with _live_mutex:  # ours, but no caller in this process holds it: an earlier hold that leaked
            return row["holder"] == this_process() and row["token"] not in _live_tokens

    def renew(self, thread_id: str, token: str) -> bool:
        with self.db.connect() as c:
            return c.execute("UPDATE thread_locks SET renewed_at = ? WHERE thread_id = ? AND token = ?",
                             (time.time(), thread_id, token)).rowcount == 1

    def release(self, thread_id: str, token: str) -> None:
        try:
            with self.db.connect() as c:
                c.execute("DELETE FROM thread_locks WHERE thread_id = ? AND token = ?", (thread_id, token))
        finally:
            self._forget(token)

    @staticmethod
    def _forget(token: str) -> None:
        with _live_mutex:
            _live_tokens.discard(token)


# ---- PostgreSQL: advisory locks on one dedicated session per process ---------------------------------
def lock_key(thread_id: str) -> int:
    digest = hashlib.blake2b(f"supportflow-thread:{thread_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryLocks:
    def __init__(self, url: str):
        self.url = self.key = url
        self._mutex = threading.Lock()
        self._held: dict[str, tuple[str, int]] = {}  # thread id → (token, session generation)
        self._conn, self._generation = None, 0

    def _session(self):
        import psycopg  # a SQLite deployment never loads the driver

        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(self.url, autocommit=True, application_name="supportflow-thread-locks")
            self._generation += 1  # locks taken on an earlier session died with it
        return self._conn, self._generation

    def try_acquire(self, thread_id: str) -> str | None:
        token = uuid.uuid4().hex
        with self._mutex:
            if thread_id in self._held:  # another caller in this process: the session's lock is re-entrant
                return None
            self._held[thread_id] = (token, 0)
            try:
                conn, generation = self._session()
            except BaseException:
                del self._held[thread_id]
                raise
        try:
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (lock_key(thread_id),)).fetchone()[0]
        except BaseException:
            with self._mutex:
                del self._held[thread_id]
            raise
        with self._mutex:
            if got:
                self._held[thread_id] = (token, generation)
                return token
            del self._held[thread_id]
        return None

    def renew(self, thread_id: str, token: str) -> bool:
        with self._mutex:
            held = self._held.get(thread_id)
            conn = self._conn
            return (held is not None and held[0] == token and held[1] == self._generation
                    and conn is not None and not conn.closed and not conn.broken)

    def release(self, thread_id: str, token: str) -> None:
        with self._mutex:
            held = self._held.get(thread_id)
            if held is None or held[0] != token:
                return
            conn = self._conn if held[1] == self._generation else None
        try:
            if conn is not None and not conn.closed and not conn.broken:
                conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(thread_id),))
        except Exception as exc:  # end the session: the server releases its locks, a stuck one included
            _log.warning("thread %r: unlock failed (%s); closing the lock session", thread_id, exc)
            conn.close()
        finally:
            with self._mutex:
                self._held.pop(thread_id, None)


_advisory: dict[tuple[str, int], AdvisoryLocks] = {}
_advisory_mutex = threading.Lock()


def advisory_locks(url: str) -> AdvisoryLocks:
    """The process's lock session for `url` (keyed by pid too: a forked child must not share it)."""
    with _advisory_mutex:
        key = (url, os.getpid())
        if key not in _advisory:
            _advisory[key] = AdvisoryLocks(url)
        return _advisory[key]
