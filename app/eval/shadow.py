"""Shadow runs: a candidate configuration sees the same inputs as the live one, with no live side effects.

The candidate runs on a throwaway copy of the data directory (knowledge base, classifier, ticket
store, audit, controls) in a temporary folder, with its own checkpointer, so its tickets, reviews,
audit entries and metrics never reach the live stores. Only its decisions are compared.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError
from rich.console import Console
from rich.table import Table

from agents.config import one_line
from app.eval.run import run_suite
from app.llm.models import build_models
from app.services import Services
from app.settings import Settings

COMPARED = ("intent", "route", "outcome", "policy_rules", "final_outcome")
PATH_FIELDS = ("policy_file", "taxonomy_file", "triage_examples", "reviewers_file")
NOT_OVERRIDABLE = ("data_dir", "shadow_config", "embedder", "api_keys", "api_keys_file")  # the live model and HTTP keys
SKIP_FILES = ("checkpoints.sqlite", "vault.sqlite")


class ShadowConfigError(ValueError):
    pass


def load_overrides(path: str | Path) -> dict[str, Any]:
    """A YAML/JSON mapping of settings fields; relative paths resolve against the file's folder first."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))  # YAML is a superset of JSON
    except (OSError, yaml.YAMLError) as exc:
        raise ShadowConfigError(f"{path}: cannot read candidate config ({exc})") from exc
    if not isinstance(raw, dict) or not raw:
        raise ShadowConfigError(f"{path}: expected a non-empty mapping of settings, e.g. {{policy_file: my.yaml}}")
    fields = Settings.model_fields
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = str(key).lower().removeprefix("support_")
        if name not in fields or name in NOT_OVERRIDABLE:
            allowed = ", ".join(sorted(set(fields) - set(NOT_OVERRIDABLE)))
            raise ShadowConfigError(f"{path}: {key!r} is not a setting a candidate may override ({allowed})")
        if name in PATH_FIELDS and value is not None:
            p = Path(value)
            value = p if p.is_absolute() or not (path.parent / p).exists() else path.parent / p
        try:
            out[name] = TypeAdapter(fields[name].annotation).validate_python(value)
        except ValidationError as exc:
            raise ShadowConfigError(f"{path}: {one_line(exc, limit=1, empty=str(key))}") from None
    return out


def _copy_sqlite(src: Path, dst: Path) -> None:
    """A consistent copy even while the live process writes (WAL contents included)."""
    with sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30) as s, sqlite3.connect(dst) as d:
        s.backup(d)


def copy_data_dir(src: Path, dst: Path) -> Path:
    """Everything but checkpoints and the contact vault; SQLite files via the backup API."""
    src, dst = Path(src), Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    if not src.exists():
        return dst
    for item in src.iterdir():
        if item.name.startswith(SKIP_FILES) or item.name.endswith(("-wal", "-shm")):
            continue
        target = dst / item.name
        if item.is_dir():
            shutil.copytree(item, target, ignore=shutil.ignore_patterns("*-wal", "*-shm"),
                            copy_function=_copy_file)
        else:
            _copy_file(item, target)
    return dst


def _copy_file(src, dst) -> None:
    src, dst = Path(src), Path(dst)
    if src.suffix in (".sqlite", ".sqlite3", ".db"):
        _copy_sqlite(src, dst)
    else:
        shutil.copy2(src, dst)


@contextmanager
def sandbox_services(live, overrides: dict[str, Any] | None = None) -> Iterator[Any]:
    """Services for a candidate (or a sandboxed eval) on a temporary copy of the live data directory."""
    tmp = Path(tempfile.mkdtemp(prefix="supportflow-shadow-"))
    try:
        data = copy_data_dir(live.settings.data_dir, tmp / "data")
        settings = live.settings.model_copy(update={**(overrides or {}), "data_dir": data})
        if settings.app_db.resolve() == live.settings.app_db.resolve():  # never, but it is the one promise here
            raise ShadowConfigError("candidate would share the live database")
        svc = Services(settings=settings, models=build_models(settings), embedder=live.embedder)
        svc.check()
        yield svc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def differences(live: list[dict], candidate: list[dict]) -> list[dict]:
    """Every decision (per scenario and turn) on which the two configurations disagree."""
    cand = {r["id"]: r for r in candidate}
    out = []
    for r in live:
        c = cand.get(r["id"])
        if c is None:
            continue
        turns = max(len(r.get("trace") or []), len(c.get("trace") or []))
        for i in range(turns):
            lt = (r.get("trace") or [])[i] if i < len(r.get("trace") or []) else {}
            ct = (c.get("trace") or [])[i] if i < len(c.get("trace") or []) else {}
            for field in COMPARED:
                if lt.get(field) != ct.get(field):
                    out.append({"id": r["id"], "turn": i + 1, "field": field,
                                "live": lt.get(field), "candidate": ct.get(field)})
    return out


def run_shadow(live_desk, scenarios, review: str, run_id: str, overrides: dict[str, Any],
               live_results: list[dict], progress: bool = True, reviewer: str | None = None) -> dict:
    """Replay the scenarios on the candidate and compare with the live results."""
    # A candidate never acts in a company system: its writes are dry runs, recorded and compared only.
    # As careful as the live run too: a live run without connected systems is compared with a candidate without.
    mode = "off" if live_desk.services.settings.connectors_mode == "off" else "dry_run"
    with sandbox_services(live_desk.services, {**overrides, "connectors_mode": mode}) as svc:
        desk = type(live_desk)(services=svc)  # a desk like the live one, on the sandboxed services
        try:
            cand = run_suite(desk, scenarios, review=review, run_id=run_id, prefix="shadow", progress=progress,
                             reviewer=reviewer)
        finally:
            desk.close()
    diffs = differences(live_results, cand)
    return {"overrides": {k: str(v) for k, v in overrides.items()}, "scenarios": len(scenarios),
            "scenarios_differing": len({d["id"] for d in diffs}), "differences": diffs,
            "candidate_results": cand}


def render_differences(report: dict, console=None, limit: int = 60) -> None:
    console = console or Console()
    diffs = report["differences"]
    table = Table(title=f"Shadow run: {report['scenarios_differing']} of {report['scenarios']} scenarios differ "
                        f"({len(diffs)} decisions)")
    for col in ("scenario", "turn", "decision", "live", "candidate"):
        table.add_column(col)
    for d in diffs[:limit]:
        table.add_row(d["id"], str(d["turn"]), d["field"], json.dumps(d["live"]), json.dumps(d["candidate"]))
    console.print(table)
    if len(diffs) > limit:
        console.print(f"… {len(diffs) - limit} more in the shadow JSON")
