"""Helpers shared by the CLI modules: the global --data-dir, settings, services and the desk, errors, JSON output."""

from __future__ import annotations

import json
import math
import numbers
from pathlib import Path
from typing import Any

import typer

from agents.compliance.policy import PolicyError
from agents.triage.taxonomy import TaxonomyError
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


def finite(obj: Any) -> Any:
    """`obj` with every non-finite number (NaN, ±Infinity) as None.

    Sanitised rather than refused: what the CLI prints reports work already done (a turn that created a ticket,
    a bench run); failing over one undefined metric would hide the rest. null is JSON's "no number" (what
    JavaScript's JSON.stringify writes too); `NaN` is not JSON and breaks strict parsers."""
    if isinstance(obj, bool) or isinstance(obj, numbers.Integral):
        return obj
    if isinstance(obj, numbers.Real):  # float, and numpy / fractions reals
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, dict):
        return {_key(k): finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [finite(v) for v in obj]
    return obj


def _key(key: Any) -> Any:
    return str(key) if isinstance(key, float) and not math.isfinite(key) else key


def to_json(obj: Any, indent: int | None = 2) -> str:
    """Strict JSON (RFC 8259): non-finite numbers become null; `allow_nan=False` guards anything missed."""
    return json.dumps(finite(obj), indent=indent, default=str, allow_nan=False)


def print_json(obj: Any) -> None:
    typer.echo(to_json(obj))


def json_option() -> Any:
    """The `--json` flag every command that prints a result takes (text is the default)."""
    return typer.Option(False, "--json", help="Print the result as JSON instead of text.")


def as_text(obj: Any) -> str:
    """A result as indented `key: value` text (YAML block style, so it reads as plain text), from the same
    strict-JSON value `--json` prints."""
    import yaml  # deferred: only the text view of nested results needs it

    return yaml.safe_dump(json.loads(to_json(obj)), sort_keys=False, allow_unicode=True, width=120).rstrip()


def emit(obj: Any, as_json: bool) -> None:
    """Print a result: strict JSON with `--json`, else as text."""
    typer.echo(to_json(obj) if as_json else as_text(obj))


# Commands that make what they need under --data-dir, or never read it (`triage` works on files it is given and
# keeps only the model export there, `bench` on temporary data dirs of its own, `config` on the repository's files):
# a data dir that does not exist yet is theirs to create. Every other command
# (`eval` included: a suite run on an empty knowledge base would score nothing but the typo) works on existing
# data, so a missing one is a mistyped path.
CREATES_DATA = frozenset({"ingest", "ask", "serve", "worker", "db", "bench", "triage", "config", "shop"})


def check_data_dir(s: Settings, command: str | None) -> None:
    """Refuse a data directory that was named (--data-dir, SUPPORT_DATA_DIR, `.env`) and does not exist, before
    anything could create it; the default one is created on first use."""
    if "data_dir" not in s.model_fields_set or command in CREATES_DATA or command is None:
        return
    data_dir = s.data_dir
    if not data_dir.exists():
        fail(f"data directory {str(data_dir)!r} does not exist (a typo?); `ingest` or `ask` creates one")
    if not data_dir.is_dir():
        fail(f"data directory {str(data_dir)!r} is not a directory")
