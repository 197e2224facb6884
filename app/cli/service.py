"""`serve` (the HTTP API under uvicorn) and `db upgrade` (schema creation as its own step)."""

from __future__ import annotations

import os

import typer

from app.cli.common import CliState, emit, fail, json_option, settings

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0 behind a load balancer)."),
    port: int = typer.Option(8080, help="TCP port."),
    workers: int = typer.Option(1, min=1, help="Worker processes; they share state through the database."),
) -> None:
    """Serve the HTTP API (OpenAPI page at /docs). Channel keys: SUPPORT_API_KEYS or SUPPORT_API_KEYS_FILE."""
    import uvicorn  # deferred: only this command needs the server

    if CliState.data_dir is not None:  # workers are separate processes: hand them the data directory
        os.environ["SUPPORT_DATA_DIR"] = str(CliState.data_dir)
    if workers > 1:  # /metrics sums every worker's counters (app/telemetry.py); each run starts from zero
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir()
    # A worker loading its models on a busy host can miss uvicorn's 5 s health ping and be killed and replaced,
    # over and over (seen under `bench serve`); 60 s still replaces a hung worker.
    uvicorn.run("app.http.api:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="warning", timeout_graceful_shutdown=10, timeout_worker_healthcheck=60)


def metrics_dir() -> str:
    """A fresh folder for prometheus-client's per-worker files, named by this server's pid so two servers on one
    data directory keep theirs apart; set before any worker imports prometheus-client."""
    import shutil
    import tempfile
    from pathlib import Path

    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or Path(tempfile.gettempdir()) /
                  f"supportflow-metrics-{os.getpid()}")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return str(folder)


def worker(
    once: bool = typer.Option(False, "--once", help="Run the jobs waiting now, then exit (cron-style)."),
) -> None:
    """Run background jobs (the review SLA sweep every 5 minutes) from the PostgreSQL job queue (procrastinate)."""
    from app.jobs import QUEUE, connected, ensure_schema  # deferred: loads procrastinate and psycopg

    s = settings()
    if CliState.data_dir is not None:
        os.environ["SUPPORT_DATA_DIR"] = str(CliState.data_dir)
    try:
        ensure_schema(s)
        with connected(s) as app:
            app.run_worker(queues=[QUEUE], wait=not once, install_signal_handlers=not once)
    except ValueError as exc:
        fail(str(exc))


@db_app.command("upgrade")
def db_upgrade(as_json: bool = json_option()) -> None:
    """Create or migrate every table (idempotent; safe with many processes starting at once)."""
    from app.schema import upgrade  # deferred: opens every store

    try:
        emit(upgrade(settings()), as_json)
    except Exception as exc:  # an unreachable database or an unwritable data directory, said plainly
        fail(f"{type(exc).__name__}: {exc}")
