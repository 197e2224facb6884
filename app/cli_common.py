"""Helpers shared by the CLI modules: the global --data-dir, services, errors, JSON output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer


class CliState:
    data_dir: Optional[Path] = None


def settings():
    from app.settings import Settings

    return Settings(data_dir=CliState.data_dir) if CliState.data_dir else Settings()


def services():
    from app.services import Services

    return Services.from_settings(settings())


def fail(msg: str, code: int = 2) -> None:
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str))
