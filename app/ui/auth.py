"""Reviewer sign-in for the console: a configured reviewer id plus that reviewer's secret token.

Decisions and kill-switch toggles carry the signed-in identity, never a name typed next to the
button, so there are no anonymous approvals. The registry (app/config/reviewers.yaml, or
`SUPPORT_REVIEWERS_FILE`) stores only token hashes; qualification (role, approval limit) is
still checked by the desk on every decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.compliance.reviewers import ReviewerError, registry_for


class SignInError(ValueError):
    pass


@dataclass(frozen=True)
class Identity:
    id: str
    name: str
    roles: tuple[str, ...]
    approval_limit: float


def sign_in(settings, reviewer_id: str, token: str) -> Identity:
    reviewer_id = (reviewer_id or "").strip()
    if not reviewer_id or not token:
        raise SignInError("Enter your reviewer id and secret token.")
    try:
        r = registry_for(settings).authenticate(reviewer_id, token)
    except ReviewerError as exc:
        raise SignInError(str(exc)) from None
    return _identity(r)


def identity_of(settings, reviewer_id: str) -> Identity | None:
    """Who a signed session cookie names, as the registry has them now (None once they are removed)."""
    try:
        return _identity(registry_for(settings).get(reviewer_id))
    except (ReviewerError, KeyError, LookupError):
        return None


def _identity(r) -> Identity:
    return Identity(r.id, r.name, tuple(r.roles), float(r.approval_limit))
