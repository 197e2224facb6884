"""`serve` (the HTTP API under uvicorn) and `db upgrade` (schema creation as its own step)."""

from __future__ import annotations

import os

import typer

from app.cli.common import CliState, fail, print_json, settings

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
    uvicorn.run("app.http.api:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="warning", timeout_graceful_shutdown=10)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate every table (idempotent; safe with many processes starting at once)."""
    from app.schema import upgrade  # deferred: opens every store

    try:
        print_json(upgrade(settings()))
    except Exception as exc:  # an unreachable database or an unwritable data directory, said plainly
        fail(f"{type(exc).__name__}: {exc}")
