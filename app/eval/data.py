"""Scenario files for `python -m app eval`: schema, loading with line-numbered errors, result I/O.

Two forms share a file. The original one is a whole conversation judged once: a first message, optional
further customer turns, and expectations named like the result fields they check. The per-turn form has
no top-level message: `turns` is a list of `{"message": …, "expect": {…}}`, each turn judged on its own,
because a conversation that ends well can still have opened a ticket for "hi" on the way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

RESULT_FIELDS = ("id", "intent", "category", "confidence", "route", "outcome", "policy_rules", "review",
                 "ticket_id", "retrieved", "citations", "grounded", "llm_calls", "prompt_tokens",
                 "completion_tokens", "latency_ms", "error")
OUTCOMES = ("answered", "ticket_created", "escalated_pending_review", "refused", "error")
# Outcomes a turn may be expected to have: the desk's, plus asking the customer for a missing detail.
TURN_OUTCOMES = (*OUTCOMES, "needs_info")
SCALAR_ANY_OF = ("intent", "category", "outcome", "review", "grounded")
NUMERIC = ("confidence", "llm_calls", "prompt_tokens", "completion_tokens", "latency_ms")
LIST_EXACT = ("route", "policy_rules")
LIST_SUBSET = ("retrieved", "citations")
PRESENCE = ("ticket_id", "error")
EXPECTABLE = SCALAR_ANY_OF + NUMERIC + LIST_EXACT + LIST_SUBSET + PRESENCE

Many = str | list[str]


class ScenarioFileError(ValueError):
    """The scenario file cannot be used; the message names the file and line."""


def _check_outcomes(v: Any, allowed: tuple[str, ...]) -> None:
    bad = [o for o in (v if isinstance(v, list) else [v]) if o not in allowed]
    if bad:
        raise ValueError(f"expect.outcome {bad} not one of {', '.join(allowed)}")


class TurnExpect(BaseModel):
    """What one turn should do. Only the keys given are checked (see app/eval/score.py for the rules)."""

    model_config = ConfigDict(extra="forbid")

    outcome: Many | None = None
    intent: Many | None = None
    category: Many | None = None
    language: Many | None = Field(None, description="Language the desk detected (ISO 639-1), or one of a list.")
    route: list[str] | list[list[str]] | None = Field(None, description="The route exactly (or one of a list).")
    route_contains: Many | None = Field(None, description="Specialists that must be on the route.")
    ticket: StrictBool | None = Field(None, description="A ticket was opened on this turn.")
    review: StrictBool | None = Field(None, description="A human review is pending (or was decided) after it.")
    needs_info: StrictBool | list[str] | None = Field(
        None, description="true: the desk asked for missing details; a list: exactly those slots.")
    answer_contains: str | list[Many] | None = Field(
        None, description="Every item in the reply (case-insensitive); an inner list means any one of them.")
    answer_excludes: Many | None = None
    policy_rule: Many | None = Field(None, description="Rule ids that must be among the turn's decisions.")
    policy_rules: list[str] | list[list[str]] | None = None
    args: dict[str, Any] | list[dict[str, Any]] | None = Field(
        None, description="An action was proposed with these arguments (true: present, any value); "
                          "a list: one action for each.")
    citations: Many | None = None
    retrieved: Many | None = None
    grounded: StrictBool | None = None
    error: StrictBool | str | None = None
    ticket_id: StrictBool | str | None = None
    executed: list[dict[str, Any]] | None = Field(
        None, description="Exactly the writes carried out in the company's system on this turn, each "
                          "{operation, order_id?, amount?} ([] = none).")

    @field_validator("outcome")
    @classmethod
    def _known_outcomes(cls, v: Any) -> Any:
        if v is not None:
            _check_outcomes(v, TURN_OUTCOMES)
        return v

    @field_validator("args")
    @classmethod
    def _some_args(cls, v: dict | list | None) -> dict | list | None:
        if v is not None and (not v or any(not a for a in (v if isinstance(v, list) else [v]))):
            raise ValueError("expect.args needs at least one argument name per action")
        return v


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: Any = Field(description="The customer's message; non-text values test bad-input handling.")
    expect: TurnExpect
    note: str | None = Field(None, description="Why this is the right expectation, for the people reading it.")

    @property
    def checks(self) -> dict[str, Any]:
        return self.expect.model_dump(exclude_unset=True)


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")
    customer: dict[str, Any] | None = None
    tags: list[str] = Field(default_factory=list)
    split: str | None = Field(None, pattern=r"^[A-Za-z0-9_\-]+$", description="e.g. dev / val, for --split.")


class Scenario(_Base):
    """The original form: one expectation for the whole conversation."""

    per_turn: ClassVar[bool] = False
    message: Any = Field(description="First customer message; non-text values test bad-input handling.")
    turns: list[Any] = Field(default_factory=list, description="Further customer messages, in order.")
    expect: dict[str, Any] | None = None

    @field_validator("expect")
    @classmethod
    def _known_fields(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        unknown = sorted(set(v or {}) - set(EXPECTABLE))
        if unknown:
            raise ValueError(f"unknown expect field(s) {unknown}; expectable: {', '.join(EXPECTABLE)}")
        if v and "outcome" in v:
            _check_outcomes(v["outcome"], TURN_OUTCOMES)
        return v

    @property
    def messages(self) -> list[Any]:
        return [self.message, *self.turns]


class Conversation(_Base):
    """The per-turn form: every customer turn carries its own expectation."""

    per_turn: ClassVar[bool] = True
    turns: list[Turn] = Field(min_length=1)

    @property
    def messages(self) -> list[Any]:
        return [t.message for t in self.turns]

    @property
    def expect(self) -> dict[str, Any] | None:
        """Scenario-level expectation: none; `checks` per turn instead."""
        return None


AnyScenario = Scenario | Conversation
TURN_EXPECTABLE = tuple(TurnExpect.model_fields)


def _is_per_turn(raw: dict) -> bool:
    turns = raw.get("turns")
    return "message" not in raw and isinstance(turns, list) and any(isinstance(t, dict) for t in turns)


def parse_scenario(raw: dict) -> AnyScenario:
    """The form is decided by the keys, so a mistake is reported against the form the author meant."""
    if _is_per_turn(raw):
        if "expect" in raw:
            raise ValueError("expect: a per-turn scenario puts its expectations in each turn, not at the top")
        return Conversation.model_validate(raw)
    if any(isinstance(t, dict) and {"message", "expect"} & set(t) for t in raw.get("turns") or []):
        raise ValueError("turns: per-turn entries ({message, expect}) need a scenario without a top-level "
                         "'message'; put the first message in turns[0]")
    return Scenario.model_validate(raw)


def _problems(exc: ValidationError, limit: int = 4) -> str:
    """Pydantic's errors on one line, with turns counted from 1 and unknown expect keys named plainly."""
    out = []
    for err in exc.errors()[:limit]:
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc) or "line"
        if len(loc) >= 2 and loc[0] == "turns" and isinstance(loc[1], int):
            where = f"turn {loc[1] + 1}" + "".join(f".{p}" for p in loc[2:])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden" and len(loc) >= 2 and loc[-2] == "expect":
            where = where.rsplit(".", 1)[0]
            msg = f"unknown expect field {loc[-1]!r}; expectable: {', '.join(TURN_EXPECTABLE)}"
        out.append(f"{where}: {msg}")
    return "; ".join(out)


def load_scenarios(path: str | Path, split: str | None = None) -> list[AnyScenario]:
    """Every line validated before anything runs, so a typo at line 58 doesn't waste a run."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(f"{path}: cannot read scenario file ({exc})") from exc
    out: list[AnyScenario] = []
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
            sc = parse_scenario(raw)
        except ValidationError as exc:
            problems = _problems(exc)
            raise ScenarioFileError(f"{path}:{no}: invalid scenario {raw.get('id', '?')!r}: {problems}") from None
        except ValueError as exc:
            raise ScenarioFileError(f"{path}:{no}: invalid scenario {raw.get('id', '?')!r}: {exc}") from None
        if sc.id in seen:
            raise ScenarioFileError(f"{path}:{no}: duplicate scenario id {sc.id!r} (first at line {seen[sc.id]})")
        seen[sc.id] = no
        out.append(sc)
    if not out:
        raise ScenarioFileError(f"{path}: no scenarios")
    if split is not None:
        out = [s for s in out if s.split == split]
        if not out:
            raise ScenarioFileError(f"{path}: no scenarios with split {split!r}")
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
