"""The one door every review decision goes through.

A decision is checked against the reviewer registry, then claimed in a durable table, then resumed by
interrupt id: a second reviewer racing on the same item gets a clear error and the thread is resumed once.
Written once as steps (app/threads.py), so the sync and async APIs share every check.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any

from langgraph.types import Command

from agents.compliance import check_reviewer, parse_resume
from agents.reviewers import ReviewerError
from app.review.claims import ClaimTakenError, ReviewClaims
from app.services import Services
from app.threads import NoPendingReviewError, Steps, UnknownThreadError, config_of, summarize


class ReviewClaimedError(NoPendingReviewError):
    """Someone else is deciding, or already decided, this review (nothing was changed)."""


def authorize(services: Services, thread_id: str, snapshot: Any, decision: dict) -> Any:
    """Validate payload and reviewer; returns (interrupt to resume, parsed choice). Refusals are audited."""
    interrupt = snapshot.interrupts[0]
    payload = interrupt.value
    choice = parse_resume(decision, payload["action_requests"][0]["name"])
    meta = payload.get("metadata") or {}
    view = {"reviewer_role": meta.get("reviewer_role"), "action": {"args": payload["action_requests"][0]["args"]}}
    try:
        check_reviewer(view, choice, services)
    except ReviewerError as exc:
        services.audit.record(
            f"{thread_id}:review_refused:{interrupt.id}:{choice.reviewer}:{time.time_ns()}", thread_id,
            "compliance", "review_refused", str(exc), actor=f"reviewer:{choice.reviewer}",
            evidence={"rule_id": meta.get("rule_id"), "decision": choice.type,
                      "args": payload["action_requests"][0]["args"]})
        raise
    return interrupt, choice


@contextmanager
def claimed(claims: ReviewClaims, thread_id: str, interrupt: Any, choice: Any):
    """Hold the durable claim while resuming; release it if the resume fails so the item stays decidable."""
    try:
        claims.claim(thread_id, interrupt.id, choice.reviewer, choice.type)
    except ClaimTakenError as exc:
        raise ReviewClaimedError(str(exc)) from None
    try:
        yield
    except BaseException:
        claims.release(thread_id, interrupt.id)
        raise
    claims.finish(thread_id, interrupt.id)


def check_resume(thread_id: str, decision: Any, snapshot: Any) -> None:
    if not snapshot.values:
        raise UnknownThreadError(f"unknown thread id {thread_id!r}")
    if not snapshot.interrupts:
        raise NoPendingReviewError(f"thread {thread_id} has no pending review")
    action = snapshot.interrupts[0].value["action_requests"][0]["name"]
    parse_resume(decision, action)  # raises ReviewPayloadError; the thread stays paused


def decide_steps(services: Services, claims: ReviewClaims, thread_id: str, decision: dict[str, Any]) -> Steps:
    """Check, claim, resume once (by interrupt id). Raises UnknownThreadError, NoPendingReviewError,
    ReviewPayloadError, ReviewerError or ReviewClaimedError; on any of them the thread stays paused."""
    config = config_of(thread_id)
    snapshot = yield ("state", config)
    check_resume(thread_id, decision, snapshot)
    interrupt, choice = authorize(services, thread_id, snapshot, decision)
    with claimed(claims, thread_id, interrupt, choice):
        yield ("invoke", Command(resume={interrupt.id: decision}), config)
    return summarize(thread_id, (yield ("state", config)))
