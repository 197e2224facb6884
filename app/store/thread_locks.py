"""One writer per thread: a lock held in the database around each run, across OS threads, tasks and processes.

Two runs on one thread at once both read the same checkpoint, so each answers the other's message (or loses
it) and their side effects share keys. `ThreadLocks` serialises them:

- PostgreSQL: a session-level advisory lock on a 64-bit hash of the thread id, taken with
  `pg_try_advisory_lock` on a connection dedicated to these locks (one per process, not from the stores'
  pool, which a held lock would starve). The server drops a dead session's locks, so a crashed holder
  frees its threads at once. A session's advisory locks are re-entrant, so the process also keeps which
  threads it holds and lets one caller at a time past.
- SQLite (any other `Database`): a lease row per busy thread in the app database. A lease whose holder
  process is gone (same host, pid not running), or that has not been renewed for `stale_after` seconds,
  is taken over atomically, from the holder that was read, like a review claim (app/review/claims.py).

A hold is re-entrant for its owner only (the same asyncio task, or the same OS thread outside a loop), so a
caller holding a thread (`hold`, e.g. to stream a run) can still run steps on it. Tasks it spawns are other
owners: they wait like anyone else.

Waiting is polling with backoff up to a deadline, never blocking in the database: a session blocked in
`pg_advisory_lock` would hold a transaction open (and block `CREATE INDEX CONCURRENTLY` elsewhere), and the
async driver must not block its event loop. Past the deadline, `ThreadBusyError`: nothing was recorded,
send again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import random
import threading
import time
import uuid
from pathlib import Path

from agents.conversation import MessageError
from app.store.db import Database, connect, is_postgres
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

FIRST_POLL, MAX_POLL = 0.005, 0.2


class ThreadBusyError(MessageError):
    """Another message (or review decision) is running on this thread; nothing was recorded. Retryable."""

    retryable = True

    def __init__(self, thread_id: str, waited: float, message: str | None = None):
        self.thread_id, self.waited = thread_id, waited
        super().__init__(message or f"thread {thread_id!a} is busy with another message (waited {waited:.1f} s); "
                         "nothing was recorded, send it again")


class LockLostError(ThreadBusyError):
    """The hold ended while the run went on (lease taken over as stale, or the lock session dropped): the run
    stops between steps, like a crash, and the next message or decision carries it on."""

    def __init__(self, thread_id: str):
        super().__init__(thread_id, 0.0, f"thread {thread_id!a}: its lock was lost mid-run; the run stopped and "
                                         "is carried on by the next message or decision")


def _owner() -> object:
    """The running asyncio task, else the OS thread: the objects themselves, whose ids could be reused."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no loop running in this thread
        task = None
    return task if task is not None else threading.current_thread()


_owned: dict[tuple, Lease] = {}  # (database, thread id, owner) → the owner's outermost hold
_owned_mutex = threading.Lock()


class Lease:
    """One hold on one thread: renew between steps, release once. A nested hold by the same owner shares it."""

    def __init__(self, backend, thread_id: str, token: str, outer: Lease | None = None):
        self.backend, self.thread_id, self.token, self.outer = backend, thread_id, token, outer
        self.released, self.key = False, None
        if outer is None:
            self.key = (backend.key, thread_id, _owner())
            with _owned_mutex:
                _owned[self.key] = self

    @staticmethod
    def nested(backend, thread_id: str) -> Lease | None:
        with _owned_mutex:
            outer = _owned.get((backend.key, thread_id, _owner()))
        return Lease(backend, thread_id, outer.token, outer) if outer is not None else None

    def renew(self) -> None:
        if self.outer is not None:
            return self.outer.renew()
        if not self.backend.renew(self.thread_id, self.token):
            raise LockLostError(self.thread_id)

    def release(self) -> None:
        """Never raises: the run's own result or error is what the caller needs. A lease that could not be
        deleted is taken over at once by this process, by others once stale (PostgreSQL: the session's)."""
        if not self.released and self.outer is None:
            self.released = True
            with _owned_mutex:
                _owned.pop(self.key, None)
            try:
                self.backend.release(self.thread_id, self.token)
            except Exception as exc:
                _log.warning("thread %r: could not release its lock: %s", self.thread_id, exc)

    async def arelease(self) -> None:
        # Shielded: a second cancellation must not leave the thread locked until its lease goes stale.
        await asyncio.shield(asyncio.to_thread(self.release))


class ThreadLocks:
    def __init__(self, target: str | Path | Database, timeout: float = 60.0, stale_after: float = 600.0):
        self.timeout = timeout
        if is_postgres(target):
            self.backend = _advisory_locks(target)
        else:
            self.backend = _LeaseLocks(connect(target), stale_after)

    def acquire(self, thread_id: str, timeout: float | None = None) -> Lease:
        if (nested := Lease.nested(self.backend, thread_id)) is not None:
            return nested
        wait = _Wait(thread_id, self.timeout if timeout is None else timeout)
        while (token := self.backend.try_acquire(thread_id)) is None:
            time.sleep(wait.pause())
        return Lease(self.backend, thread_id, token)

    async def aacquire(self, thread_id: str, timeout: float | None = None) -> Lease:
        if (nested := Lease.nested(self.backend, thread_id)) is not None:
            return nested
        wait = _Wait(thread_id, self.timeout if timeout is None else timeout)
        while (token := await self._atry(thread_id)) is None:
            await asyncio.sleep(wait.pause())
        return Lease(self.backend, thread_id, token)

    async def _atry(self, thread_id: str) -> str | None:
        attempt = asyncio.ensure_future(asyncio.to_thread(self.backend.try_acquire, thread_id))
        try:
            return await asyncio.shield(attempt)
        except asyncio.CancelledError:  # the attempt may still succeed in its thread: give that hold back
            attempt.add_done_callback(lambda f: f.cancelled() or f.exception() or f.result() is None
                                      or self.backend.release(thread_id, f.result()))
            raise

    def hold(self, thread_id: str, timeout: float | None = None):
        return _Held(self, thread_id, timeout)


class _Held:
    """`with locks.hold(tid):` / `async with locks.hold(tid):` for callers driving a graph themselves."""

    def __init__(self, locks: ThreadLocks, thread_id: str, timeout: float | None):
        self.locks, self.thread_id, self.timeout, self.lease = locks, thread_id, timeout, None

    def __enter__(self) -> Lease:
        self.lease = self.locks.acquire(self.thread_id, self.timeout)
        return self.lease

    def __exit__(self, *exc) -> None:
        self.lease.release()

    async def __aenter__(self) -> Lease:
        self.lease = await self.locks.aacquire(self.thread_id, self.timeout)
        return self.lease

    async def __aexit__(self, *exc) -> None:
        await self.lease.arelease()


class _Wait:
    """Backoff with jitter up to a deadline; past it, ThreadBusyError."""

    def __init__(self, thread_id: str, timeout: float):
        self.thread_id, self.start, self.delay = thread_id, time.monotonic(), FIRST_POLL
        self.deadline = self.start + max(0.0, timeout)

    def pause(self) -> float:
        now = time.monotonic()
        if now >= self.deadline:
            raise ThreadBusyError(self.thread_id, now - self.start)
        pause = min(self.deadline - now, self.delay * random.uniform(0.5, 1.0))
        self.delay = min(self.delay * 2, MAX_POLL)
        return pause


# ---- SQLite: lease rows ------------------------------------------------------------------------------
_live_tokens: set[str] = set()  # holds this process has not released (a row of ours not in here leaked)
_live_mutex = threading.Lock()


class _LeaseLocks:
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


class _AdvisoryLocks:
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


_advisory: dict[tuple[str, int], _AdvisoryLocks] = {}
_advisory_mutex = threading.Lock()


def _advisory_locks(url: str) -> _AdvisoryLocks:
    """The process's lock session for `url` (keyed by pid too: a forked child must not share it)."""
    with _advisory_mutex:
        key = (url, os.getpid())
        if key not in _advisory:
            _advisory[key] = _AdvisoryLocks(url)
        return _advisory[key]
