"""Helpers shared by the CLI modules: the global --data-dir, settings, services and the desk, errors, JSON output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from agents.policy import PolicyError
from agents.taxonomy import TaxonomyError
from app.settings import Settings


class CliState:
    data_dir: Path | None = None


def settings() -> Settings:
    return Settings(data_dir=CliState.data_dir) if CliState.data_dir else Settings()


def services():
    from app.services import Services  # deferred: opens Chroma and loads the embedder (~1.5 s); keeps `--help` fast

    return Services.from_settings(settings())


def desk(svc=None):
    """The support desk on SVC (default: the configured services); a bad policy or taxonomy file is a clean error."""
    from app.desk import SupportDesk  # deferred: the graph on top of app.services (~3 s); keeps `--help` fast

    try:
        return SupportDesk(services=svc if svc is not None else services())
    except (PolicyError, TaxonomyError) as exc:
        fail(str(exc))


def fail(msg: str, code: int = 2) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str))
