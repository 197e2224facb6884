"""Checkpointers: SQLite under the data directory by default, PostgreSQL when a database URL is set.

`checkpointer(settings)` / `await async_checkpointer(settings)` pick the backend; `close_saver`
releases whatever connection or pool the saver holds; `thread_ids(saver)` lists the threads it knows.
This is the one module that reaches into a saver's internals (its connection, its tables).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver

from app.store.keys import subkey

THREADS_SQL = ("SELECT thread_id, MAX(checkpoint_id) AS last FROM checkpoints WHERE checkpoint_ns = '' "
               "GROUP BY thread_id ORDER BY last DESC")


def sqlite_checkpointer(path: Path, serde=None) -> SqliteSaver:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
    saver = SqliteSaver(conn, serde=serde)
    saver.setup()
    return saver


async def async_sqlite_checkpointer(path: Path, serde=None):
    # The backends' drivers are imported when that backend is used (a SQLite deployment never loads psycopg).
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(str(path), timeout=30)
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA synchronous=NORMAL")
    saver = AsyncSqliteSaver(conn, serde=serde)
    await saver.setup()
    return saver


_PG_KWARGS = {"autocommit": True, "prepare_threshold": 0}


def postgres_checkpointer(url: str, serde=None):
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    pool = ConnectionPool(url, min_size=1, max_size=8, open=True, kwargs={**_PG_KWARGS, "row_factory": dict_row})
    saver = PostgresSaver(pool, serde=serde)
    with schema_lock(url):
        saver.setup()
    return saver


async def async_postgres_checkpointer(url: str, max_size: int = 20, serde=None):
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    pool = AsyncConnectionPool(url, min_size=1, max_size=max_size, open=False,
                               kwargs={**_PG_KWARGS, "row_factory": dict_row})
    await pool.open()
    saver = AsyncPostgresSaver(pool, serde=serde)
    with schema_lock(url):
        await saver.setup()
    return saver


@contextmanager
def schema_lock(url: str, poll: float = 0.2, name: str = "supportflow-checkpoints") -> Iterator[None]:
    """Processes starting together must not run the checkpointer migrations at the same time.

    A try-lock, polled: a process *waiting* in `pg_advisory_lock` holds an open transaction, and the holder's
    `CREATE INDEX CONCURRENTLY` waits for every open transaction to end, so two processes starting on an empty
    database would deadlock for good. Between polls the waiter holds nothing.
    """
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        while not conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (name,)).fetchone()[0]:
            time.sleep(poll)
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (name,))


def serde_for(settings):
    """AES-encrypted checkpoints when `SUPPORT_ENCRYPT_CHECKPOINTS` is on (key: app/store/keys.py), else the
    default serializer. Every worker must share the key (SUPPORT_SECRET_KEY) to read each other's threads."""
    if not getattr(settings, "encrypt_checkpoints", False):
        return None
    from langgraph.checkpoint.serde.encrypted import EncryptedSerializer  # deferred: loads pycryptodome

    return EncryptedSerializer.from_pycryptodome_aes(key=subkey(settings, "checkpoints"))


def checkpointer(settings):
    serde = serde_for(settings)
    return postgres_checkpointer(settings.database_url, serde=serde) if settings.database_url \
        else sqlite_checkpointer(settings.checkpoint_db, serde=serde)


async def async_checkpointer(settings):
    serde = serde_for(settings)
    if settings.database_url:
        return await async_postgres_checkpointer(settings.database_url, serde=serde)
    return await async_sqlite_checkpointer(settings.checkpoint_db, serde=serde)


def close_saver(saver) -> None:
    conn = getattr(saver, "conn", None)
    if conn is not None:
        conn.close()


async def aclose_saver(saver) -> None:
    conn = getattr(saver, "conn", None)
    if conn is not None:
        await conn.close()


def thread_ids(saver, limit: int | None = None) -> list[str]:
    """Every thread the checkpointer knows (or the newest `limit`), newest activity first."""
    conn = getattr(saver, "conn", None)
    if isinstance(conn, sqlite3.Connection):
        sql, params = (THREADS_SQL, ()) if limit is None else (THREADS_SQL + " LIMIT ?", (limit,))
        return [r[0] for r in conn.execute(sql, params).fetchall()]
    if type(saver).__name__ == "PostgresSaver":
        sql, params = (THREADS_SQL, ()) if limit is None else (THREADS_SQL + " LIMIT %s", (limit,))
        with saver._cursor() as cur:  # the saver's own pool/connection and lock
            cur.execute(sql, params)
            return [r["thread_id"] for r in cur.fetchall()]
    seen: dict[str, None] = {}  # any other saver (in memory, tests): its public API, in its own order
    for cp in saver.list(None):
        seen.setdefault(cp.config["configurable"]["thread_id"], None)
        if limit is not None and len(seen) >= limit:
            break
    return list(seen)
