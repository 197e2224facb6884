"""One thin database layer for the small stores (tickets, audit, metrics, vault, controls).

`connect(target)` takes a SQLite file path or a `postgresql://` URL and hides the differences
the stores would otherwise each handle: paramstyle (`?` / `:name` → `%s` / `%(name)s`), column
types (REAL → DOUBLE PRECISION), JSON field access, triggers and transactions. SQL is written
once, in the SQLite dialect plus `ON CONFLICT ... DO NOTHING / DO UPDATE` (which both speak).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")

_CREATES = re.compile(r"^\s*CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)\s+IF\s+NOT\s+EXISTS\s+(\w+)", re.I)


def is_postgres(target: Any) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


class Conn:
    """One connection in use: `execute` returns a cursor whose rows are dicts."""

    def __init__(self, raw: Any, db: Database):
        self.raw, self.db = raw, db

    def execute(self, sql: str, params: Sequence | dict = ()):
        return self.raw.execute(self.db.sql(sql), params)

    def executemany(self, sql: str, rows: list) -> int:
        if self.db.postgres:
            with self.raw.cursor() as cur:
                cur.executemany(self.db.sql(sql), rows)
                return cur.rowcount
        return self.raw.executemany(sql, rows).rowcount

    def one(self, sql: str, params: Sequence | dict = ()) -> dict | None:
        row = self.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def all(self, sql: str, params: Sequence | dict = ()) -> list[dict]:
        return [dict(r) for r in self.execute(sql, params).fetchall()]


class Database:
    """A SQLite file (one connection per thread, WAL) or a PostgreSQL pool."""

    def __init__(self, target: str | Path):
        self.postgres = is_postgres(target)
        self.target = target if self.postgres else Path(target)
        self._local = threading.local()
        if self.postgres:  # the driver is imported only by a PostgreSQL deployment
            from psycopg.rows import dict_row
            from psycopg_pool import ConnectionPool

            self._pool = ConnectionPool(self.target, min_size=1, max_size=8, open=True,
                                        kwargs={"autocommit": True, "row_factory": dict_row})
        else:
            self.target.parent.mkdir(parents=True, exist_ok=True)

    # ---- dialect ------------------------------------------------------------------------
    def sql(self, text: str) -> str:
        if not self.postgres:
            return text
        text = text.replace("%", "%%").replace("?", "%s")
        return _NAMED.sub(r"%(\1)s", text)

    def ddl(self, text: str) -> str:
        if not self.postgres:
            return text
        return re.sub(r"\bREAL\b", "DOUBLE PRECISION", text)

    def json_text(self, column: str, key: str) -> str:
        """SQL for the text value of `column`'s top-level JSON `key`."""
        if self.postgres:
            return f"(({column})::jsonb ->> '{key}')"
        return f"json_extract({column}, '$.{key}')"

    # ---- connections --------------------------------------------------------------------
    @contextmanager
    def connect(self) -> Iterator[Conn]:
        """An autocommit connection (each statement commits on its own)."""
        if self.postgres:
            with self._pool.connection() as raw:
                yield Conn(raw, self)
            return
        raw = getattr(self._local, "conn", None)
        if raw is None:
            raw = sqlite3.connect(self.target, timeout=30, isolation_level=None, check_same_thread=False)
            raw.row_factory = sqlite3.Row
            raw.execute("PRAGMA journal_mode=WAL")
            raw.execute("PRAGMA synchronous=NORMAL")
            raw.execute("PRAGMA busy_timeout=30000")
            self._local.conn = raw
        yield Conn(raw, self)

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[Conn]:
        """A write transaction; `lock` names a section that concurrent writers enter one at a time."""
        with self.connect() as c:
            if self.postgres:
                with c.raw.transaction():
                    if lock:
                        c.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (lock,))
                    yield c
                return
            c.raw.execute("BEGIN IMMEDIATE")  # SQLite: one writer at a time anyway
            try:
                yield c
            except BaseException:
                c.raw.execute("ROLLBACK")
                raise
            c.raw.execute("COMMIT")

    def script(self, ddl: str, pg_extra: str = "", sqlite_extra: str = "") -> None:
        """Create the schema (idempotent, safe when several processes start at once).

        On PostgreSQL a `CREATE INDEX IF NOT EXISTS` locks its table even when the index exists, so a process
        starting while another served deadlocked a reply (its ticket-event insert and ticket update against the
        index builds). Statements whose table or index already exists are skipped, without a lock."""
        statements = [s for s in self.ddl(ddl).split(";") if s.strip()]
        if self.postgres:
            with self.transaction(lock="supportflow-schema") as c:
                for s in [*statements, *([pg_extra] if pg_extra else [])]:
                    named = _CREATES.search(s)
                    if named and c.one("SELECT to_regclass(?) AS r", (named.group(1),))["r"] is not None:
                        continue
                    c.raw.execute(s)
            return
        with self.connect() as c:
            c.raw.executescript(";\n".join(statements) + ";" + sqlite_extra)

    def add_column(self, table: str, column: str, decl: str) -> None:
        """Migrate a table created by an older version (idempotent, safe when processes race)."""
        if self.postgres:
            with self.connect() as c:  # ALTER TABLE locks the table even when the column exists: look first
                if c.one("SELECT 1 AS x FROM information_schema.columns WHERE table_schema = current_schema() "
                         "AND table_name = ? AND column_name = ?", (table, column)) is None:
                    c.raw.execute(self.ddl(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {decl}"))
            return
        with self.connect() as c:
            if column in {r["name"] for r in c.all(f"PRAGMA table_info({table})")}:
                return
            try:
                c.raw.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")
            except sqlite3.OperationalError as exc:  # another process added it first
                if "duplicate column" not in str(exc):
                    raise

    def close(self) -> None:
        if self.postgres:
            self._pool.close()
        else:
            raw = getattr(self._local, "conn", None)
            if raw is not None:
                raw.close()
                self._local.conn = None


_shared: dict[str, Database] = {}
_shared_lock = threading.Lock()


def connect(target: str | Path | Database) -> Database:
    """The process-wide Database for a path or URL (stores on the same target share one pool)."""
    if isinstance(target, Database):
        return target
    key = target if is_postgres(target) else str(Path(target).resolve())
    with _shared_lock:
        db = _shared.get(key)
        if db is None:
            db = _shared[key] = Database(target)
        return db


def release(target: str | Path) -> None:
    """Close and forget the shared Database for `target` (tests dropping a throwaway database)."""
    key = target if is_postgres(target) else str(Path(target).resolve())
    with _shared_lock:
        db = _shared.pop(key, None)
    if db is not None:
        db.close()
