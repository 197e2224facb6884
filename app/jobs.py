"""Background work on procrastinate, a maintained job queue that lives in the same PostgreSQL as everything else.

Why procrastinate: the service already requires PostgreSQL to scale out, so jobs need no second broker (Redis,
RabbitMQ) to run, back up or secure; jobs are rows, deferred in the same database the desk writes; periodic tasks
are deduplicated across workers (`periodic_id` + `queueing_lock`), so N hosts running `python -m app worker` still
sweep once per period. SQLite deployments have no job worker: run `python -m app review sla` from cron instead.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from procrastinate import App, PsycopgConnector, SyncPsycopgConnector

from app.settings import Settings
from app.store.checkpoints import schema_lock

QUEUE = "supportflow"
jobs = App(connector=PsycopgConnector())  # bound to this deployment's database by `connected()`


@functools.cache
def _desk():
    from app.desk import SupportDesk  # deferred: a worker builds its desk once, on its first job

    return SupportDesk()


@jobs.periodic(cron="*/5 * * * *", periodic_id="sla-sweep")
@jobs.task(queue=QUEUE, queueing_lock="sla-sweep", name="sla_sweep")
def sla_sweep(timestamp: int) -> int:
    """Escalate overdue reviews (idempotent: an item is escalated once however often this runs)."""
    return len(_desk().sla_sweep())


@contextmanager
def connected(settings: Settings, sync: bool = False) -> Iterator[App]:
    """The job app on this deployment's database, open (`sync=True` to defer jobs from synchronous code)."""
    if not settings.database_url:
        raise ValueError("the job worker needs PostgreSQL: set SUPPORT_DATABASE_URL (with SQLite, run "
                         "`python -m app review sla` from cron)")
    connector = (SyncPsycopgConnector if sync else PsycopgConnector)(conninfo=settings.database_url)
    with jobs.replace_connector(connector) as app:
        if sync:
            with app.open():
                yield app
        else:
            yield app  # run_worker opens (and closes) the async connector itself


def ensure_schema(settings: Settings) -> bool:
    """Apply procrastinate's schema once (under the migrations try-lock); False when it was already there."""
    import psycopg  # deferred: PostgreSQL deployments only

    with schema_lock(settings.database_url), psycopg.connect(settings.database_url, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('procrastinate_jobs') IS NOT NULL").fetchone()[0]:
            return False
        with connected(settings, sync=True) as app:
            app.schema_manager.apply_schema()
        return True
