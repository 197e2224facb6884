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
  is taken over atomically, from the holder that was read, like a review claim (app/store/review_claims.py).

How each database keeps a lock is app/store/lock_backends.py; this module is the protocol around it: who owns
a hold, re-entrancy, waiting, and what a caller is told.

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
import logging
import random
import threading
import time
from pathlib import Path

from agents.supervisor.conversation import MessageError
from app import telemetry
from app.store.db import Database, connect, is_postgres
from app.store.lock_backends import SCHEMA, LeaseLocks, advisory_locks, lock_key

__all__ = ["SCHEMA", "Lease", "LockLostError", "ThreadBusyError", "ThreadLocks", "lock_key"]

_log = logging.getLogger("supportflow.locks")


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
            self.backend = advisory_locks(target)
        else:
            self.backend = LeaseLocks(connect(target), stale_after)

    def acquire(self, thread_id: str, timeout: float | None = None) -> Lease:
        if (nested := Lease.nested(self.backend, thread_id)) is not None:
            return nested
        wait = _Wait(thread_id, self.timeout if timeout is None else timeout)
        while (token := self.backend.try_acquire(thread_id)) is None:
            time.sleep(wait.pause())
        telemetry.LOCK_WAIT.observe(time.monotonic() - wait.start)
        return Lease(self.backend, thread_id, token)

    async def aacquire(self, thread_id: str, timeout: float | None = None) -> Lease:
        if (nested := Lease.nested(self.backend, thread_id)) is not None:
            return nested
        wait = _Wait(thread_id, self.timeout if timeout is None else timeout)
        while (token := await self._atry(thread_id)) is None:
            await asyncio.sleep(wait.pause())
        telemetry.LOCK_WAIT.observe(time.monotonic() - wait.start)
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
            telemetry.BUSY.inc()
            raise ThreadBusyError(self.thread_id, now - self.start)
        pause = min(self.deadline - now, self.delay * random.uniform(0.5, 1.0))
        self.delay = min(self.delay * 2, MAX_POLL)
        return pause
