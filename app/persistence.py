"""Checkpointers: SQLite under the data directory by default, PostgreSQL when a database URL is set.

`checkpointer(settings)` / `await async_checkpointer(settings)` pick the backend; `close_saver`
releases whatever connection or pool the saver holds.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver

THREADS_SQL = ("SELECT thread_id, MAX(checkpoint_id) AS last FROM checkpoints WHERE checkpoint_ns = '' "
               "GROUP BY thread_id ORDER BY last DESC")


def sqlite_checkpointer(path: Path) -> SqliteSaver:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across process crashes
    saver = SqliteSaver(conn)
    saver.setup()
    return saver


async def async_sqlite_checkpointer(path: Path):
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(str(path), timeout=30)
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA synchronous=NORMAL")
    saver = AsyncSqliteSaver(conn)
    await saver.setup()
    return saver


_PG_KWARGS = {"autocommit": True, "prepare_threshold": 0}


def postgres_checkpointer(url: str):
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    pool = ConnectionPool(url, min_size=1, max_size=8, open=True, kwargs={**_PG_KWARGS, "row_factory": dict_row})
    saver = PostgresSaver(pool)
    with _schema_lock(url):
        saver.setup()
    return saver


async def async_postgres_checkpointer(url: str, max_size: int = 20):
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    pool = AsyncConnectionPool(url, min_size=1, max_size=max_size, open=False,
                               kwargs={**_PG_KWARGS, "row_factory": dict_row})
    await pool.open()
    saver = AsyncPostgresSaver(pool)
    with _schema_lock(url):
        await saver.setup()
    return saver


def _schema_lock(url: str):
    """Processes starting together must not run the checkpointer migrations at the same time."""
    from contextlib import contextmanager

    import psycopg

    @contextmanager
    def held():
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(hashtext('supportflow-checkpoints'))")
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext('supportflow-checkpoints'))")

    return held()


def checkpointer(settings):
    return postgres_checkpointer(settings.database_url) if settings.database_url \
        else sqlite_checkpointer(settings.checkpoint_db)


async def async_checkpointer(settings):
    if settings.database_url:
        return await async_postgres_checkpointer(settings.database_url)
    return await async_sqlite_checkpointer(settings.checkpoint_db)


def close_saver(saver) -> None:
    conn = getattr(saver, "conn", None)
    if conn is not None:
        conn.close()


async def aclose_saver(saver) -> None:
    conn = getattr(saver, "conn", None)
    if conn is not None:
        await conn.close()


def thread_ids(saver) -> list[str]:
    """Every thread the checkpointer knows, newest activity first."""
    conn = getattr(saver, "conn", None)
    if isinstance(conn, sqlite3.Connection):
        return [r[0] for r in conn.execute(THREADS_SQL).fetchall()]
    if type(saver).__name__ == "PostgresSaver":
        with saver._cursor() as cur:  # the saver's own pool/connection and lock
            cur.execute(THREADS_SQL)
            return [r["thread_id"] for r in cur.fetchall()]
    seen: dict[str, None] = {}
    for cp in saver.list(None):
        seen.setdefault(cp.config["configurable"]["thread_id"], None)
    return list(seen)
