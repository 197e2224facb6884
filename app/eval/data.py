"""Scenario files for `python -m app eval`: schema, loading with line-numbered errors, result I/O.

A scenario is one conversation: a first message, optional further customer turns, an optional
customer record and optional expectations named like the result fields they check.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agents.config import one_line

RESULT_FIELDS = ("id", "intent", "category", "confidence", "route", "outcome", "policy_rules", "review",
                 "ticket_id", "retrieved", "citations", "grounded", "llm_calls", "prompt_tokens",
                 "completion_tokens", "latency_ms", "error")
OUTCOMES = ("answered", "ticket_created", "escalated_pending_review", "refused", "error")
SCALAR_ANY_OF = ("intent", "category", "outcome", "review", "grounded")
NUMERIC = ("confidence", "llm_calls", "prompt_tokens", "completion_tokens", "latency_ms")
LIST_EXACT = ("route", "policy_rules")
LIST_SUBSET = ("retrieved", "citations")
PRESENCE = ("ticket_id", "error")
EXPECTABLE = SCALAR_ANY_OF + NUMERIC + LIST_EXACT + LIST_SUBSET + PRESENCE


class ScenarioFileError(ValueError):
    """The scenario file cannot be used; the message names the file and line."""


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")
    message: Any = Field(description="First customer message; non-text values test bad-input handling.")
    customer: dict[str, Any] | None = None
    turns: list[Any] = Field(default_factory=list, description="Further customer messages, in order.")
    expect: dict[str, Any] | None = None
    tags: list[str] = Field(default_factory=list)

    @field_validator("expect")
    @classmethod
    def _known_fields(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        unknown = sorted(set(v or {}) - set(EXPECTABLE))
        if unknown:
            raise ValueError(f"unknown expect field(s) {unknown}; expectable: {', '.join(EXPECTABLE)}")
        if v and "outcome" in v:
            bad = [o for o in (v["outcome"] if isinstance(v["outcome"], list) else [v["outcome"]]) if o not in OUTCOMES]
            if bad:
                raise ValueError(f"expect.outcome {bad} not one of {', '.join(OUTCOMES)}")
        return v

    @property
    def messages(self) -> list[Any]:
        return [self.message, *self.turns]


def load_scenarios(path: str | Path) -> list[Scenario]:
    """Every line validated before anything runs, so a typo at line 58 doesn't waste a run."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(f"{path}: cannot read scenario file ({exc})") from exc
    out: list[Scenario] = []
    seen: dict[str, int] = {}
    for no, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ScenarioFileError(f"{path}:{no}: not valid JSON ({exc.msg})") from None
        if not isinstance(raw, dict):
            raise ScenarioFileError(f"{path}:{no}: expected a JSON object per line")
        if "id" in raw and not isinstance(raw["id"], str):
            raw["id"] = str(raw["id"])
        try:
            sc = Scenario.model_validate(raw)
        except ValidationError as exc:
            problems = one_line(exc, limit=4, empty="line")
            raise ScenarioFileError(f"{path}:{no}: invalid scenario {raw.get('id', '?')!r}: {problems}") from None
        if sc.id in seen:
            raise ScenarioFileError(f"{path}:{no}: duplicate scenario id {sc.id!r} (first at line {seen[sc.id]})")
        seen[sc.id] = no
        out.append(sc)
    if not out:
        raise ScenarioFileError(f"{path}: no scenarios")
    return out


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            n += 1
    return n


def summary_path(out: str | Path) -> Path:
    """RESULTS.jsonl → RESULTS.summary.json, beside it."""
    out = Path(out)
    return out.with_name(out.stem + ".summary.json")
