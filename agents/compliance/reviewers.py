"""Reviewer registry: who may decide a paused action (role), up to which amount (limit), in which queues.

Loaded from YAML and validated with errors that name the file, the reviewer and the field, the way
the policy loader does, and cross-checked against the policy so no review rule is left without a
qualified human. `authorize` is the single qualification check used by the API and by the graph.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agents.compliance.hitl import ReviewPayloadError
from agents.config import load_model, load_when_changed, repeated

_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
# Roles the registry also hands out that decide no review: `knowledge` changes the knowledge base
# (app/knowledge_ops.py). Holding one never qualifies anyone for a paused action, whatever the rule asks.
TEAM_ROLES = frozenset({"knowledge"})


class ReviewerError(ReviewPayloadError):
    """Unknown reviewer, wrong role, amount above the reviewer's limit, or an invalid registry."""


class Queue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sla_hours: float = Field(gt=0, description="Deadline for a pending review in this queue.")
    escalate_to: str = Field(min_length=1, description="Role notified when an item is overdue.")
    follow_up_on_reject: bool = Field(
        False, description="A rejected review here still leaves an open ticket in this queue: what brought it here "
        "(a legal threat, a fraud signal, a complaint) needs a person even when the action itself is refused.")


class Batching(BaseModel):
    """How alike pending reviews must be to be decided as one group (app/review/groups.py)."""

    model_config = ConfigDict(extra="forbid")
    min_similarity: float = Field(0.55, ge=0, le=1, description="Average cosine similarity of request texts.")
    band_ratio: float = Field(2.0, ge=1, description="Largest amount at most this times the smallest…")
    band_width: float = Field(500.0, ge=0, description="…or at most this much above it.")


class Reviewer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1)
    roles: list[str] = Field(min_length=1)
    queues: list[str] = Field(default_factory=list)
    approval_limit: float = Field(ge=0, description="Largest amount this reviewer may decide.")
    token_hash: str | None = None

    @field_validator("token_hash")
    @classmethod
    def _hash_format(cls, v: str | None) -> str | None:
        if v is not None and not _HASH.match(v):
            raise ValueError('must look like "sha256:<64 lowercase hex digits>"')
        return v

    def may_decide(self, role: str | None, amount: float | None, carried: float | None = None) -> str | None:
        """Why this reviewer may not decide (None = qualified). The limit applies to the larger of `amount` and
        `carried` (the largest amount the action ever had), so a blanked or lowered amount skips nothing."""
        if not set(self.roles) - TEAM_ROLES:
            return f"reviewer {self.id!r} holds no review role (has: {', '.join(self.roles)})"
        if role and (role not in self.roles or role in TEAM_ROLES):
            return f"reviewer {self.id!r} does not hold the role {role!r} (has: {', '.join(self.roles)})"
        for value in (amount, carried):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                      or not math.isfinite(value)):
                return f"amount {value!r} is not a finite number: no approval limit covers it"
        limit = carried_amount(amount, carried)
        if limit is not None and limit > self.approval_limit:
            return (f"amount {limit:,.2f} is above reviewer {self.id!r}'s approval limit "
                    f"of {self.approval_limit:,.2f}")
        return None


def carried_amount(*amounts: float | None) -> float | None:
    """The largest of the amounts an action has carried (None when it never had one); infinite when one is not a
    finite number, which no approval limit covers."""
    known = [a for a in amounts if a is not None]
    if any(isinstance(a, bool) or not isinstance(a, int | float) or not math.isfinite(a) for a in known):
        return math.inf
    return max(known) if known else None


class Registry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int | str = 1
    queues: dict[str, Queue] = Field(min_length=1)
    reviewers: list[Reviewer] = Field(min_length=1)
    batching: Batching = Field(default_factory=Batching)
    source: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Registry:
        dupes = repeated([r.id for r in self.reviewers])
        if dupes:
            raise ValueError(f"duplicate reviewer id(s): {', '.join(dupes)}")
        for r in self.reviewers:
            unknown = [q for q in r.queues if q not in self.queues]
            if unknown:
                raise ValueError(f"reviewer {r.id!r}: unknown queue(s) {', '.join(unknown)} (not under 'queues')")
        roles = self.roles()
        for name, q in self.queues.items():
            if q.escalate_to not in roles:
                raise ValueError(f"queue {name!r}: escalate_to role {q.escalate_to!r} is held by no reviewer")
        return self

    def follows_up(self, queue: str | None) -> bool:
        return bool(queue) and queue in self.queues and self.queues[queue].follow_up_on_reject

    def roles(self) -> set[str]:
        return {role for r in self.reviewers for role in r.roles}

    def get(self, reviewer_id: str) -> Reviewer:
        for r in self.reviewers:
            if r.id == reviewer_id:
                return r
        raise ReviewerError(f"unknown reviewer {reviewer_id!r}: not in the reviewer registry {self.source}".rstrip())

    def authenticate(self, reviewer_id: str, token: str) -> Reviewer:
        """For UIs: the reviewer whose token hash matches, else ReviewerError (same message either way)."""
        try:
            r = self.get(reviewer_id)
        except ReviewerError:
            r = None
        given = "sha256:" + hashlib.sha256((token or "").encode("utf-8", "surrogatepass")).hexdigest()
        if r is None or r.token_hash is None or not hmac.compare_digest(given, r.token_hash):
            raise ReviewerError("unknown reviewer or wrong token")
        return r

    def qualified_for(self, role: str | None, amount: float | None) -> list[Reviewer]:
        return [r for r in self.reviewers if r.may_decide(role, amount) is None]

    def route(self, queue: str | None, role: str | None, amount: float | None) -> tuple[str | None, list[str]]:
        """(queue the item belongs in, ids of qualified reviewers): the rule's queue when a qualified
        reviewer works it, else the queue of a qualified reviewer; (queue, []) when nobody qualifies."""
        qualified = self.qualified_for(role, amount)
        ids = [r.id for r in qualified]
        if not qualified or any(queue in r.queues for r in qualified):
            return queue, ids
        for r in qualified:
            if r.queues:
                return r.queues[0], ids
        return queue, ids

    def check_policy(self, policy: Any) -> list[str]:
        """Problems with this registry for `policy`: review roles nobody holds or that decide no reviews (team roles),
        review queues not configured."""
        problems = []
        for rule in policy.rules:
            if rule.effect != "review":
                continue
            if rule.reviewer_role in TEAM_ROLES:
                problems.append(f"rule {rule.id!r}: reviewer_role {rule.reviewer_role!r} decides no reviews "
                                f"(a team role: {', '.join(sorted(TEAM_ROLES))})")
            elif rule.reviewer_role not in self.roles():
                problems.append(f"rule {rule.id!r}: reviewer_role {rule.reviewer_role!r} is held by no reviewer")
            if rule.queue and rule.queue not in self.queues:
                problems.append(f"rule {rule.id!r}: queue {rule.queue!r} has no entry under 'queues' (SLA)")
        return problems


def authorize(registry: Registry, reviewer_id: str, role: str | None, amount: float | None,
              carried: float | None = None) -> Reviewer:
    """The reviewer, if qualified for this role and amount; ReviewerError saying why not otherwise."""
    reviewer = registry.get(reviewer_id)
    why = reviewer.may_decide(role, amount, carried)
    if why:
        raise ReviewerError(why)
    return reviewer


def load_registry(path: str | Path) -> Registry:
    path = Path(path)
    _, reg = load_model(path, Registry, ReviewerError, "reviewer registry", "'queues' and 'reviewers'",
                        {"reviewers": "reviewer", "queues": "queue"})
    reg.source = str(path)
    return reg


def registry_for(settings: Any) -> Registry:
    """The registry named by `settings.reviewers_file` (the application's settings: agents are handed them, they
    never read the environment), reloaded when the file changes so every process sees edits."""
    return load_when_changed(Path(settings.reviewers_file), load_registry, ReviewerError, "reviewer registry")


def hash_token(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()
