"""The support lead's figures: unneeded tickets, missed escalations, actions without their required arguments.

They are computed from result rows alone (the per-turn `trace` the runner writes), so they can be recomputed
from a results file and tested on hand-written rows.

* A ticket is **unneeded** on a turn whose expectation says none was needed: `ticket: false` (old form:
  `ticket_id: false`), or expected outcomes that never open one (answered, needs_info, refused, error).
  Each ticket opened there counts.
* An escalation is **missed** when a turn needed a review (`review: true`, or an expected outcome of only
  `escalated_pending_review`) and none happened, or needed a ticket (`ticket: true`, or an expected outcome
  of only `ticket_created`) and got neither a ticket nor a review (a pending review opens its ticket when a
  person decides).
* An action **lacks required arguments** when a policy decision, a pending review or a ticket carries an
  action whose required arguments (the taxonomy's `slots` for its intent, else `REQUIRED_ARGS`) are not all
  there. The one exception is the documented fallback: a human review after the desk asked the customer for
  the details (an earlier turn with outcome `needs_info`). Measured on every turn, expectation or not.
"""

from __future__ import annotations

from typing import Any

# Used when the taxonomy declares no `slots` for an intent; keyed by intent and by action name.
REQUIRED_ARGS: dict[str, tuple[str, ...]] = {
    "refund_request": ("order_id", "amount"), "refund": ("order_id", "amount"),
    "cancel_order": ("order_id",),
    "change_account_details": ("field", "value"), "account_change": ("field", "value"),
}
NO_TICKET_OUTCOMES = ("answered", "needs_info", "refused", "error")


def _slot_names(slots: Any) -> tuple[str, ...] | None:
    if slots is None:
        return None
    if isinstance(slots, dict):
        return tuple(str(k) for k in slots)
    return tuple(str(s.get("name") if isinstance(s, dict) else getattr(s, "name", s)) for s in slots)


def required_args(intent: str | None, action: str | None, taxonomy=None) -> tuple[str, ...]:
    """The taxonomy's `slots` for the intent when it declares them, else the built-in table."""
    spec = getattr(taxonomy, "intents", {}).get(intent) if taxonomy is not None and intent else None
    declared = None
    fields_set = getattr(spec, "model_fields_set", None)  # a pydantic default is not a declaration
    if spec is not None and (fields_set is None or "slots" in fields_set):
        declared = _slot_names(getattr(spec, "slots", None))  # declared, even if empty: the file decides
    if declared is not None:
        return declared
    return REQUIRED_ARGS.get(intent or "") or REQUIRED_ARGS.get(action or "") or ()


def _outcomes(expect: dict) -> list[str]:
    want = expect.get("outcome")
    return [] if want is None else list(want) if isinstance(want, list) else [want]


def ticket_needed(expect: dict) -> bool | None:
    """True / False when the expectation says so, None when it leaves it open."""
    for key in ("ticket", "ticket_id"):
        if isinstance(expect.get(key), bool):
            return expect[key]
    outs = _outcomes(expect)
    if outs and all(o in NO_TICKET_OUTCOMES for o in outs):
        return False
    if outs and all(o == "ticket_created" for o in outs):
        return True
    return None


def review_needed(expect: dict) -> bool | None:
    if isinstance(expect.get("review"), bool):
        return expect["review"]
    outs = _outcomes(expect)
    if outs and all(o == "escalated_pending_review" for o in outs):
        return True
    return None


def tickets_of(obs: dict) -> list[str]:
    """Tickets a turn (or, for an old-form row, a conversation) opened."""
    if obs.get("tickets"):
        return list(obs["tickets"])
    trace_tickets = [t for step in obs.get("trace") or [] for t in (step.get("tickets") or [])]
    if trace_tickets:
        return list(dict.fromkeys(trace_tickets))
    return [obs["ticket_id"]] if obs.get("ticket_id") else []


def unneeded_tickets(expect: dict, obs: dict) -> list[str]:
    return tickets_of(obs) if ticket_needed(expect) is False else []


def missed_escalation(expect: dict, obs: dict) -> str | None:
    """Why a needed escalation did not happen, or None."""
    reviewed = bool(obs.get("review"))
    if review_needed(expect) and not reviewed:
        return "review needed, none happened"
    if ticket_needed(expect) and not tickets_of(obs) and not reviewed:
        return "ticket needed, none opened"
    return None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


def actions_missing_args(result: dict) -> list[dict]:
    """Every distinct action of one conversation that went ahead without its required arguments."""
    out, seen, asked = [], set(), False
    for step in result.get("trace") or []:
        for action in step.get("actions") or []:
            key = (action.get("name"), repr(sorted((action.get("args") or {}).items())))
            if key in seen:
                continue
            seen.add(key)
            required = action.get("required")
            if required is None:
                required = required_args(action.get("intent"), action.get("name"))
            missing = [a for a in required if _blank((action.get("args") or {}).get(a))]
            if missing and not (asked and action.get("effect") == "review"):
                out.append({"id": result.get("id"), "turn": step.get("turn"), "action": action.get("name"),
                            "intent": action.get("intent"), "rule": action.get("rule"), "missing": missing})
        asked = asked or step.get("outcome") == "needs_info"
    return out
