"""Human-in-the-loop payloads: the decisions a reviewer may send back to a paused compliance node.

They live on their own so the reviewer registry (which refines `ReviewPayloadError`) and the compliance
agent (which checks reviewers against it) can both depend on them without depending on each other.

A resume value is checked for size and depth before anything parses, signs or stores it, and an edit may
lower an amount but never blank one (or any other argument the pending action has): a blank amount would
otherwise slip past every approval limit. `canonical` is the one byte string a decision's signature covers.

What the customer sends while the review waits (a note, or withdrawing the request) is a separate kind of resume
value with no reviewer in it, so it can never be read as a decision; the desk signs it like the API signs decisions.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from agents.config import one_line
from knowledge.pii import redact, redact_value

MAX_PAYLOAD_CHARS = 64 * 1024  # serialized (JSON, ASCII-escaped), so characters are bytes
MAX_DEPTH = 20
UNSIGNED = ("signature", "token")  # proof of who decided travels with a decision, it is not part of it
PROTECTED_ARGS = frozenset({"order_id", "amount", "amount_usd", "currency", "intent"})  # never redacted
MAX_NOTE_CHARS = 20_000  # a customer's message while their request waits (agents/supervisor/conversation.py's limit)
BOOKKEEPING = frozenset({"intent", "missing"})  # not arguments a reviewer decides on: an edit may drop them


class ReviewPayloadError(ValueError):
    """A resume value that is not a valid review decision; the thread stays paused."""


class _Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reviewer: str = Field(min_length=1, max_length=200)
    note: str | None = Field(None, max_length=4000)
    batch: str | None = Field(None, max_length=100, description="Group id when decided with a whole group.")
    via: str | None = Field(None, max_length=40, description="The door it came through: operator-cli, python-api…")
    token: str | None = Field(None, max_length=500, repr=False, description="The reviewer's secret (registry hash).")
    signature: str | None = Field(None, max_length=128, description="HMAC of `canonical`, made by the API/CLI.")


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
    message: str | None = Field(None, max_length=4000, description="What the customer is told about the change "
                                "(the doors people use require it when the edit lowers the amount).")


DecisionT = Annotated[Approve | Reject | Edit, Field(discriminator="type")]


class ResumePayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decisions: list[DecisionT] = Field(min_length=1, max_length=1)


_resume = TypeAdapter(ResumePayload)


# ---- what the customer sends while their request waits for a review ------------------------------------------
class Opened(BaseModel):
    """The review as it was first paused: a note re-asks under a new interrupt id, but the item keeps its age
    and SLA escalation."""

    model_config = ConfigDict(extra="forbid")
    review_id: str = Field(min_length=1, max_length=100)
    at: str = Field(min_length=1, max_length=40)


class _FromCustomer(BaseModel):
    """No reviewer, no decision: nothing of this kind can approve, reject or edit the pending action."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_NOTE_CHARS, description="The customer's message, redacted.")
    message_id: str = Field(min_length=1, max_length=200)
    at: str = Field(min_length=1, max_length=40, description="When the desk received it (ISO 8601).")
    opened: Opened | None = None
    signature: str | None = Field(None, max_length=128, description="HMAC of `canonical`, made by the desk.")


class CustomerMessage(_FromCustomer):
    type: Literal["customer_message"]


class Withdraw(_FromCustomer):
    type: Literal["withdraw"]


CustomerT = Annotated[CustomerMessage | Withdraw, Field(discriminator="type")]


class CustomerResume(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer: CustomerT


_customer = TypeAdapter(CustomerResume)


def from_customer(value: Any) -> bool:
    """A resume value sent on the customer's behalf (its one key is `customer`), not a reviewer's decision."""
    return isinstance(value, dict) and "customer" in value and "decisions" not in value


def parse_customer(value: Any) -> CustomerMessage | Withdraw:
    """Validate a customer resume value (`{"customer": {...}}`); ReviewPayloadError naming what is wrong."""
    check_limits(value)
    try:
        return _customer.validate_python(value).customer
    except ValidationError as exc:
        raise ReviewPayloadError('invalid customer message for a pending review (expected {"customer": {"type": '
                                 f'"customer_message"|"withdraw", "text": "...", ...}}}}): {one_line(exc)}') from None


def check_limits(value: Any) -> None:
    """Refuse a value nested deeper than MAX_DEPTH or bigger than MAX_PAYLOAD_CHARS. Iterative, and bounded by
    the limit itself, so a 5,000-level or multi-megabyte value costs nothing and raises no RecursionError."""
    stack, nodes = [(value, 1)], 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > MAX_PAYLOAD_CHARS:  # every node takes at least one character
            raise ReviewPayloadError(f"review decision is larger than {MAX_PAYLOAD_CHARS // 1024} KB")
        if isinstance(item, dict | list | tuple):
            if depth > MAX_DEPTH:
                raise ReviewPayloadError(f"review decision is nested more than {MAX_DEPTH} levels deep")
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    try:
        size = len(json.dumps(value, default=str))
    except (TypeError, ValueError) as exc:
        raise ReviewPayloadError(f"review decision is not JSON data: {exc}") from None
    if size > MAX_PAYLOAD_CHARS:
        raise ReviewPayloadError(f"review decision is {size:,} characters as JSON; the limit is "
                                 f"{MAX_PAYLOAD_CHARS // 1024} KB")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_amount(amount: Any) -> float:
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise ReviewPayloadError(f"edited amount must be a number, got {type(amount).__name__} {str(amount)[:40]!r}")
    try:
        value = float(amount)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value) or value <= 0:
        raise ReviewPayloadError(f"edited amount must be a finite number above zero, got {str(amount)[:40]}")
    return value


def check_edit(edited: EditedAction, pending: dict | str | None) -> None:
    """The edited action keeps the pending action's name and every argument it has, with a valid amount."""
    name = pending if isinstance(pending, str) else (pending or {}).get("name")
    if name and edited.name != name:
        raise ReviewPayloadError(f"edit must keep the action {name!r}, got {edited.name!r}")
    had = (pending.get("args") or {}) if isinstance(pending, dict) else {}
    args = edited.args
    for key, old in had.items():
        if key not in BOOKKEEPING and not _blank(old) and _blank(args.get(key)):
            raise ReviewPayloadError(f"an edit may not remove or blank the argument {key!r} (the pending action "
                                     f"has {key}={old!r}); change it, or leave it as it is")
    for key, value in args.items():  # "amount" and its conversions ("amount_usd")
        if (key == "amount" or key.startswith("amount_")) and not (value is None and _blank(had.get(key))):
            check_amount(value)


def lowers_amount(pending_args: dict, edited_args: dict) -> bool:
    """An edit that approves less money than the customer asked for: the customer must be told why."""
    before, after = pending_args.get("amount"), edited_args.get("amount")
    return isinstance(before, int | float) and isinstance(after, int | float) and after < before


def parse_resume(value: Any, pending: dict | str | None = None) -> Approve | Reject | Edit:
    """Validate a resume value against the pending action (`{"name", "args"}`, or just its name); raise
    ReviewPayloadError naming what is wrong."""
    check_limits(value)
    try:
        decision = _resume.validate_python(value).decisions[0]
    except ValidationError as exc:
        problems = one_line(exc)
        raise ReviewPayloadError(
            'invalid review decision (expected {"decisions": [{"type": "approve"|"edit"|"reject", '
            f'"reviewer": "..."}}]}}): {problems}'
        ) from None
    if isinstance(decision, Edit):
        check_edit(decision.edited_action, pending)
    return decision


# ---- personal data, signatures -------------------------------------------------------------------------
def scrub(decision: dict[str, Any]) -> dict[str, Any]:
    """A copy of a (limit-checked) decision with personal data redacted from the reviewer's free text and from
    the edited arguments' strings (never amounts or order ids), as it may be stored."""
    out = dict(decision)
    for key in ("note", "message"):
        if isinstance(out.get(key), str):
            out[key] = redact(out[key])
    action = out.get("edited_action")
    if isinstance(action, dict) and isinstance(action.get("args"), dict):
        args = {k: v if k in PROTECTED_ARGS else redact_value(v) for k, v in action["args"].items()}
        out["edited_action"] = {**action, "args": args}
    return out


def canonical(thread_id: str, review_id: str, decision: dict[str, Any]) -> bytes:
    """What a decision's signature covers: the thread, the review (interrupt) it answers and the decision as
    stored (scrubbed, without its proof or empty fields), so a signature cannot be replayed on another item."""
    body = {k: v for k, v in scrub(decision).items() if k not in UNSIGNED and v is not None}
    return json.dumps({"thread_id": thread_id, "review_id": review_id, "decision": body},
                      sort_keys=True, separators=(",", ":"), default=str).encode()


def decision_digest(thread_id: str, review_id: str, decision: dict[str, Any]) -> str:
    """Tells decisions apart (claims, audit keys) without keeping their content."""
    return hashlib.sha256(canonical(thread_id, review_id, decision)).hexdigest()[:32]
