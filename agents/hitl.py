"""Human-in-the-loop payloads: the decisions a reviewer may send back to a paused compliance node.

They live on their own so the reviewer registry (which refines `ReviewPayloadError`) and the compliance
agent (which checks reviewers against it) can both depend on them without depending on each other.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from agents.config import one_line


class ReviewPayloadError(ValueError):
    """A resume value that is not a valid review decision; the thread stays paused."""


class _Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reviewer: str = Field(min_length=1, max_length=200)
    note: str | None = Field(None, max_length=4000)
    batch: str | None = Field(None, max_length=100, description="Group id when decided with a whole group.")


class Approve(_Decision):
    type: Literal["approve"]


class Reject(_Decision):
    type: Literal["reject"]
    message: str | None = Field(None, max_length=4000, description="What the customer is told.")


class EditedAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    args: dict[str, Any]


class Edit(_Decision):
    type: Literal["edit"]
    edited_action: EditedAction


DecisionT = Annotated[Approve | Reject | Edit, Field(discriminator="type")]


class ResumePayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decisions: list[DecisionT] = Field(min_length=1, max_length=1)


_resume = TypeAdapter(ResumePayload)


def parse_resume(value: Any, action_name: str | None = None) -> Approve | Reject | Edit:
    """Validate a resume value; raise ReviewPayloadError naming what is wrong."""
    try:
        decision = _resume.validate_python(value).decisions[0]
    except ValidationError as exc:
        problems = one_line(exc)
        raise ReviewPayloadError(
            'invalid review decision (expected {"decisions": [{"type": "approve"|"edit"|"reject", '
            f'"reviewer": "..."}}]}}): {problems}'
        ) from None
    if isinstance(decision, Edit):
        if action_name and decision.edited_action.name != action_name:
            raise ReviewPayloadError(
                f"edit must keep the action {action_name!r}, got {decision.edited_action.name!r}"
            )
        amount = decision.edited_action.args.get("amount")
        if amount is not None and (not isinstance(amount, (int, float)) or isinstance(amount, bool) or amount < 0):
            raise ReviewPayloadError("edited amount must be a non-negative number")
    return decision
