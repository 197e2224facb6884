"""Team endpoints, for signed-in reviewers only: the review inbox and decisions, the audit story (tickets:
routes_tickets.py).

The deciding reviewer is the token's owner; the desk still checks their role and approval limit, claims the item
and audits the decision, exactly as for the CLI.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from app.http.auth import Caller, channel, reviewer
from app.http.deps import desk_of
from app.threads import TurnResult, UnknownThreadError

router = APIRouter(tags=["team"])


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=4000, description="Kept with the decision in the audit trail.")
    message: str | None = Field(None, max_length=4000, description="What the customer is told: why it was rejected, "
                                "or why an edit changed it (required when an edit lowers the amount).")
    args: dict[str, Any] | None = Field(None, description="Edit only: the arguments to change, e.g. {\"amount\": 300}.")


@router.get("/reviews")
def list_reviews(request: Request, queue: str | None = None, mine: bool = False,
                 limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0),
                 caller: Caller = Depends(reviewer)) -> list[dict[str, Any]]:
    """Pending reviews, most urgent first, a page at a time (`mine=true`: the ones the caller may decide)."""
    return desk_of(request).reviews.inbox(queue=queue, reviewer=caller.id if mine else None, limit=limit,
                                          offset=offset)


@router.get("/reviews/groups")
def list_groups(request: Request, queue: str | None = None, caller: Caller = Depends(reviewer)) -> list[dict]:
    return desk_of(request).review_groups(queue=queue)


@router.post("/reviews/{thread_id}/{decision}", response_model=TurnResult)
def decide(thread_id: str, decision: Literal["approve", "reject", "edit"], request: Request,
           body: Decision | None = None, caller: Caller = Depends(reviewer)) -> TurnResult:
    desk, body = desk_of(request), body or Decision()
    if decision == "approve":
        return desk.approve(thread_id, reviewer=caller.id, note=body.note)  # the note also joins its ticket
    if decision == "reject":
        return desk.reject(thread_id, reviewer=caller.id, message=body.message)
    if not body.args:
        raise HTTPException(400, "an edit needs `args`, e.g. {\"args\": {\"amount\": 300}}")
    return desk.edit(thread_id, reviewer=caller.id, args=body.args, message=body.message, explain_lower=True)


@router.post("/reviews/groups/{group_id}/{decision}")
def decide_group(group_id: str, decision: Literal["approve", "reject"], request: Request,
                 body: Decision | None = None, caller: Caller = Depends(reviewer)) -> dict[str, Any]:
    body = body or Decision()
    return desk_of(request).decide_group(group_id, decision, reviewer=caller.id, note=body.note,
                                         message=body.message)


@router.get("/threads/{thread_id}/audit")
def audit_story(thread_id: str, request: Request, caller: Caller = Depends(channel)) -> list[dict[str, Any]]:
    """Every audited decision of one conversation, oldest first: team data, so a channel key is told the thread
    does not exist (404), as on every other route of a thread it may not see."""
    if caller.kind != "reviewer":
        raise UnknownThreadError("unknown thread id")
    entries = desk_of(request).services.audit.entries(thread_id)
    if not entries:
        desk_of(request).get(thread_id)  # 404 for an unknown thread, [] for a known one with no entries
    return entries
