"""Who may approve what: an action's amount in the policy currency, the most a reviewer takes responsibility for,
and the proof that a decision sent to the graph was made by the reviewer it names.

Kept apart from the compliance nodes because the review door (app/review/door.py) and the graph's resume both
need the same check, and neither should import the whole node module to get it.
"""

from __future__ import annotations

import math
from typing import Any

from agents.compliance.hitl import Approve, Edit, Reject
from agents.compliance.reviewers import ReviewerError, authorize, carried_amount, registry_for
from agents.services import Services

__all__ = ["base_amount", "decided_amount", "finite", "check_reviewer", "prove_reviewer"]


def base_amount(args: dict[str, Any], svc: Services | None) -> Any:
    """An action's amount in the policy currency (svc.policy.to_base), the value every limit is compared with:
    "£450" is about $571, not $450. Infinite when its currency has no configured rate (no limit covers an amount of
    unknown worth); as given when it is no finite number (carried_amount treats it so) or there is no policy."""
    raw = args.get("amount")
    if raw is None or svc is None or isinstance(raw, bool) or not isinstance(raw, int | float) \
            or not math.isfinite(raw):
        return raw
    converted = svc.policy.to_base(raw, args.get("currency"))
    return math.inf if converted is None else converted


def decided_amount(decision: dict[str, Any], choice: Approve | Reject | Edit | None = None,
                   svc: Services | None = None) -> float | None:
    """The amount a reviewer takes responsibility for, in the policy currency: the largest this action has carried
    (the customer's request, every edit so far, and this choice's edit), so an amount can be lowered but never
    laundered, neither by blanking it nor by changing its currency."""
    args = decision["action"]["args"]
    edited = base_amount({**args, **choice.edited_action.args}, svc) if isinstance(choice, Edit) else None
    return carried_amount(decision.get("max_amount"), base_amount(args, svc), edited)


def follows_up(decision: dict[str, Any], svc: Services) -> bool:
    """A rejected review whose queue follows up (app/config/reviewers.yaml) still leaves a ticket there."""
    return decision.get("status") == "rejected" and registry_for(svc.settings).follows_up(decision.get("queue"))


def finite(amount: float | None) -> float | None:
    return amount if amount is not None and math.isfinite(amount) else None


def check_reviewer(decision: dict[str, Any], choice: Approve | Reject | Edit, svc: Services) -> None:
    """Raise ReviewPayloadError (a ReviewerError) unless the registry qualifies this reviewer for the rule's
    role and, for an approval or an edit, the amount; the thread stays paused. The duty lead could not even
    reject the $3,000 legal item: refusing is the safe direction, so it asks only for the role."""
    registry = registry_for(svc.settings)
    if isinstance(choice, Reject):  # a rejection moves no money: it needs the rule's role, not an approval limit
        authorize(registry, choice.reviewer, decision.get("reviewer_role"), None)
        return
    args = decision["action"]["args"]
    edited = {**args, **choice.edited_action.args} if isinstance(choice, Edit) else args
    unrated = next((a for a in (args, edited) if _unrated(a, svc)), None)
    if unrated is not None:
        raise ReviewerError(f"amount {unrated['amount']:,.2f} {unrated.get('currency')} has no rate in the policy's "
                            "currency_rates, so no approval limit covers it: reject it, or add the rate to the "
                            "policy and decide again")
    authorize(registry, choice.reviewer, decision.get("reviewer_role"), decided_amount(decision, choice, svc))


def _unrated(args: dict[str, Any], svc: Services | None) -> bool:
    raw = args.get("amount")
    return (svc is not None and isinstance(raw, int | float) and not isinstance(raw, bool) and math.isfinite(raw)
            and svc.policy.to_base(raw, args.get("currency")) is None)


def prove_reviewer(choice: Approve | Reject | Edit, raw: dict[str, Any], thread_id: str, review_id: str,
                   svc: Services) -> str:
    """How a decision sent to the graph proves who made it: "token" (the reviewer's secret, checked against the
    registry's hash) or "signature" (made by the API/CLI with the deployment key); ReviewerError otherwise."""
    if choice.token:
        registry_for(svc.settings).authenticate(choice.reviewer, choice.token)
        return "token"
    if choice.signature:
        if svc.verify_decision(thread_id, review_id, raw):
            return "signature"
        raise ReviewerError("the decision's signature does not match it (made for another review, thread or "
                            "decision?); nothing was decided")
    raise ReviewerError(f"reviewer {choice.reviewer!r} is not proven: a decision sent straight to the graph must carry "
                        "the reviewer's `token`, or come through the API or CLI (`python -m app review ...`), "
                        "which sign it")
