"""The one door every review decision from the API, CLI and console goes through.

A decision is checked (size, shape, edited arguments) and its reviewer against the registry, then it is redacted,
signed and claimed in a durable table, then the thread is resumed by interrupt id: a second reviewer racing on
the same item gets a clear error and the thread is resumed once. This is operator mode: the caller vouches for the
reviewer (no token needed), and the signature tells the graph so, along with `via` (operator-cli, python-api,
console), which the audit entry keeps. A thread whose run a crash cut short (a killed approval) is carried on
instead of reported as having no pending review. Written once as steps (app/steps.py), so the sync and async
APIs share every check.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any

from langgraph.types import Command

from agents.audit_events import record_edit
from agents.compliance.approval import check_reviewer
from agents.compliance.hitl import (
    UNSIGNED,
    Approve,
    Edit,
    Reject,
    ReviewPayloadError,
    check_edit,
    decision_digest,
    scrub,
)
from agents.compliance.nodes import parse_resume
from agents.compliance.reviewers import registry_for
from app.services import Services
from app.steps import Peek, ReadState, Run, Steps
from app.store.review_claims import ClaimTakenError, ReviewClaims
from app.threads import NoPendingReviewError, UnknownThreadError, carry_on_steps, config_of, cut_short
from app.turn_result import turn_result


class ReviewClaimedError(NoPendingReviewError):
    """Someone else is deciding, or already decided, this review (nothing was changed)."""


# Who holds a review's claim while the customer's message resumes it (app/review/customer_notes.py): not a
# reviewer id a registry would hold, so a reviewer's error can say the customer changed the item.
CUSTOMER_CLAIM = "(customer)"


def review_id_of(interrupt: Any) -> str:
    """What the graph signs and claims against (the interrupt id; older pauses do not carry it)."""
    return (interrupt.value.get("metadata") or {}).get("review_id") or interrupt.id


def authorize(services: Services, thread_id: str, snapshot: Any, choice: Approve | Reject | Edit) -> Any:
    """Check the parsed decision's edit and its reviewer; returns the interrupt to resume. Refusals are audited."""
    interrupt = snapshot.interrupts[0]
    payload = interrupt.value
    request = payload["action_requests"][0]
    meta = payload.get("metadata") or {}
    view = {"reviewer_role": meta.get("reviewer_role"), "max_amount": meta.get("max_amount"),
            "action": {"args": request["args"]}}
    try:
        if choice.type == "edit":
            check_edit(choice.edited_action, {"name": request["name"], "args": request["args"]})
        if choice.token:  # operator mode needs none, but a wrong one is never ignored
            registry_for(services.settings).authenticate(choice.reviewer, choice.token)
        check_reviewer(view, choice, services)
    except ReviewPayloadError as exc:
        services.audit.record(
            f"{thread_id}:review_refused:{interrupt.id}:{choice.reviewer}:{time.time_ns()}", thread_id,
            "compliance", "review_refused", str(exc), actor=f"reviewer:{choice.reviewer}",
            evidence={"rule_id": meta.get("rule_id"), "decision": choice.type, "args": request["args"]})
        raise
    return interrupt


def signed(services: Services, thread_id: str, review_id: str, decision: dict, via: str) -> dict[str, Any]:
    """The decision as it is sent and stored: redacted, without a token, marked with its door, signed."""
    out = scrub({k: v for k, v in decision["decisions"][0].items() if k not in UNSIGNED})
    out["via"] = via
    out["signature"] = services.sign_decision(thread_id, review_id, out)
    return out


@contextmanager
def claimed(claims: ReviewClaims, thread_id: str, review_id: str, choice: Any, digest: str | None = None):
    """Hold the durable claim while resuming; release it if the resume fails so the item stays decidable."""
    try:
        claims.claim(thread_id, review_id, choice.reviewer, choice.type, digest)
    except ClaimTakenError as exc:
        if (claims.get(thread_id, review_id) or {}).get("reviewer") == CUSTOMER_CLAIM:
            raise ReviewClaimedError(f"thread {thread_id}: the customer wrote while you were deciding, so the review "
                                     "changed (see its customer notes); nothing was decided: look at it again and "
                                     "decide") from None
        raise ReviewClaimedError(str(exc)) from None
    try:
        yield
    except BaseException:
        claims.release(thread_id, review_id)
        raise
    claims.finish(thread_id, review_id)


def check_resume(thread_id: str, decision: Any, snapshot: Any) -> Approve | Reject | Edit:
    """The decision, parsed against the pending action. Raises UnknownThreadError, NoPendingReviewError or
    ReviewPayloadError (a malformed payload, not audited); the thread stays paused."""
    if not snapshot.values:
        raise UnknownThreadError(f"unknown thread id {thread_id!r}")
    if not snapshot.interrupts:
        if ((snapshot.values or {}).get("compliance") or {}).get("status") == "withdrawn":
            raise NoPendingReviewError(f"thread {thread_id} has no pending review: the customer withdrew the request")
        raise NoPendingReviewError(f"thread {thread_id} has no pending review")
    action = snapshot.interrupts[0].value["action_requests"][0]["name"]
    return parse_resume(decision, action)


def decide_steps(services: Services, thread_id: str, decision: dict[str, Any], via: str = "python-api") -> Steps:
    """Check, sign, claim, resume once (by interrupt id). Raises UnknownThreadError, NoPendingReviewError,
    ReviewPayloadError, ReviewerError or ReviewClaimedError; on any of them the thread stays paused."""
    config = config_of(thread_id)
    # A peek, without the thread's lock: reviewers racing on one item must both get as far as the claim, which
    # decides between them; the resume itself then runs under the lock like every other run.
    snapshot = yield Peek(config)
    if snapshot.values and not snapshot.interrupts and cut_short(snapshot):
        return (yield from carry_on_steps_for(services, thread_id, decision, via, snapshot))
    choice = check_resume(thread_id, decision, snapshot)
    interrupt = authorize(services, thread_id, snapshot, choice)
    rid = review_id_of(interrupt)
    sent = signed(services, thread_id, rid, decision, via)
    digest = decision_digest(thread_id, rid, sent)
    with claimed(services.claims, thread_id, rid, choice, digest):
        yield Run(Command(resume={interrupt.id: {"decisions": [sent]}}), config, "invoke")
    after = yield ReadState(config)
    return settle(services, thread_id, rid, digest, after)


def settle(services: Services, thread_id: str, rid: str, digest: str, after: Any) -> Any:
    """The result of a resume, once its checkpoint is on disk: an edit it re-asked for is audited now; a refusal
    by the graph, or another reviewer's decision having taken effect (a crash had cut its run short), is raised."""
    meta = (after.interrupts[0].value.get("metadata") or {}) if after.interrupts else {}
    previous = meta.get("previous") or {}
    if previous.get("review_id") == rid:
        record_edit(services, thread_id, previous)
    elif meta.get("error"):
        raise ReviewPayloadError(f"the review step refused this decision: {meta['error']}")
    elif meta.get("rechecks") == rid:
        pass  # the decision took effect, and the order's facts had changed meanwhile: a fresh review is pending
    elif after.interrupts:  # e.g. a failed run left the pending review under another id: nothing was decided
        raise ReviewPayloadError(f"thread {thread_id}: the decision did not reach the pending review, which "
                                 "changed meanwhile; nothing was decided: look at it again and decide")
    review = ((after.values or {}).get("compliance") or {}).get("review") or {}
    if not after.interrupts and review.get("review_id") == rid and review.get("digest") not in (None, digest):
        raise ReviewClaimedError(
            f"thread {thread_id}: this review was already decided by {review.get('reviewer')} "
            f"({review.get('decision')}) in a run a crash cut short; that run has been completed and your "
            "decision was not applied")
    return turn_result(thread_id, after)


def carry_on_steps_for(services: Services, thread_id: str, decision: Any, via: str, snapshot: Any) -> Steps:
    """A decision on a thread whose run a crash cut short (e.g. a killed approval): finish that run, so the
    decision already taken completes (one ticket), and report it. The caller's decision is not applied to
    anything they have not seen: a review the finished run pauses on is returned as pending."""
    choice = parse_resume(decision)
    registry_for(services.settings).get(choice.reviewer)  # an unknown reviewer finishes nothing
    taken = ((snapshot.values or {}).get("compliance") or {}).get("review") or {}
    claims = services.claims
    if taken.get("review_id") and (row := claims.in_progress(thread_id, taken["review_id"])):
        # Not cut short by a crash: its decider is still running it (a live holder never loses its claim).
        raise ReviewClaimedError(f"thread {thread_id}: this review is being decided right now by {row['reviewer']} "
                                 f"({row['decision']}); nothing was changed")
    config = config_of(thread_id)
    snapshot = yield from carry_on_steps(config)  # reads the thread again, as the run that finishes it
    review = ((snapshot.values or {}).get("compliance") or {}).get("review") or {}
    if review.get("review_id"):
        claims.finish(thread_id, review["review_id"])
    services.audit.record(
        f"{thread_id}:run_carried_on:{time.time_ns()}", thread_id, "reviews", "run_carried_on",
        "a run a crash cut short was finished on a review decision request", actor=f"reviewer:{choice.reviewer}",
        evidence={"via": via, "decided": review or None, "pending": bool(snapshot.interrupts)})
    return turn_result(thread_id, snapshot)
