"""The intent taxonomy: what triage's label means downstream (category, kind, route, action, queue).

Validated with pydantic like the policy and the reviewer registry, so a typo in the file is reported with
the file, the intent and the field before any conversation runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.config import load_model


class TaxonomyError(ValueError):
    """An invalid taxonomy file (or a missing triage examples file next to it)."""


class Intent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: str = Field(min_length=1)
    kind: str = Field(min_length=1, description="Which route the intent takes (a key of `routes`).")
    action: str | None = Field(None, description="What compliance evaluates, for actions and escalations.")
    queue: str | None = None
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    slots: list[Literal["order_id", "amount", "field", "value"]] = Field(
        default_factory=list,
        description="What an action needs before policy may decide it; the desk asks for what is missing.")


class Taxonomy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    intents: dict[str, Intent]
    routes: dict[str, list[str]]
    asked_as: dict[str, str] = Field(
        default_factory=dict,
        description="Action intent → the question intent that answers a question about it (no action runs).")

    @model_validator(mode="after")
    def _every_kind_routed(self) -> Taxonomy:
        for name, spec in self.intents.items():
            if spec.kind not in self.routes:
                raise ValueError(f"intent {name!r} has kind {spec.kind!r} with no route")
        for action, question in self.asked_as.items():
            if action not in self.intents or question not in self.intents:
                raise ValueError(f"asked_as {action!r} → {question!r}: both must be intents")
            if self.intents[question].kind != "question":
                raise ValueError(f"asked_as {action!r} → {question!r}: the target must be of kind 'question'")
        return self

    @classmethod
    def load(cls, path: str | Path) -> Taxonomy:
        path = Path(path)
        labels = {"intents": "intent"}
        return load_model(path, cls, TaxonomyError, "taxonomy", "'intents' and 'routes'", labels)[1]

    def describe(self, intent: str) -> dict:
        """The intent's spec as a plain dict, with its route (an unknown intent is a general question)."""
        spec = self.intents.get(intent)
        fields = spec.model_dump(exclude_none=True) if spec else {"category": "general", "kind": "question"}
        return {**fields, "route": list(self.routes[fields["kind"]])}
