"""The shared state: small, typed, one key per specialist.

Sub-graphs use `SpecialistState`, which leaves out the supervisor's bookkeeping keys
(`route`, `turn`): a compiled sub-graph returns its whole state to the parent, and an
accumulating key in both schemas would be added twice.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

Outcome = Literal["answered", "ticket_created", "escalated_pending_review", "refused", "error", "needs_info",
                  "withdrawn", "with_person"]  # with_person: forwarded to the person who holds the conversation


class Customer(TypedDict, total=False):
    id: str
    verified: bool
    tier: str
    account_age_days: int


class Entities(TypedDict, total=False):
    order_ids: list[str]
    amount: float | None
    currency: str | None
    emails: list[str]
    phones: list[str]


class Triage(TypedDict, total=False):
    intent: str
    category: str
    kind: Literal["question", "action", "escalation", "conversation"]
    action: str | None
    confidence: float
    source: Literal["classifier", "llm", "classifier+llm", "rules"]
    urgency: Literal["low", "normal", "high", "urgent"]
    sentiment: float
    risk: list[str]
    entities: Entities
    language: str  # ISO 639-1 code of the customer's language ("en" when unsure)
    speech_act: Literal["question", "request", "conversation"]
    search_text: str  # what to search the help centre for, when not the message itself (see agents/triage/nodes.py)
    clarification: int  # which clarifying question this turn asks (1, 2), for an unclear message
    args: dict[str, Any]  # the action's arguments once its slots are settled (agents/turn/understand.py); compliance
    #                       proposes exactly these. `args["missing"]`: slots it goes ahead without
    continues: bool  # this message completed an action that was waiting for details
    wants_person: bool  # the message asks for a person (agents/triage/handoff.py): it goes to one, whole


class Citation(TypedDict):
    doc_id: str
    title: str
    snippet: str


class Research(TypedDict, total=False):
    query: str
    answer: str
    citations: list[Citation]
    retrieved: list[str]
    found: bool
    grounded: bool
    unsupported: list[str]
    answered_by: Literal["llm", "extractive"]
    grounding_by: str  # which check gave the verdict: lexical, llm judge, ...
    degraded: str  # set when retrieval ran without its dense side (embedding provider down)


class Decision(TypedDict, total=False):
    effect: Literal["allow", "review", "deny"]
    rule_id: str
    policy_version: str
    reason: str
    message: str | None
    reviewer_role: str | None
    queue: str | None
    priority: str | None
    action: dict[str, Any]
    review: dict[str, Any] | None
    status: Literal["approved", "rejected", "denied", "pending", "withdrawn"]  # withdrawn: by the customer


class Facts(TypedDict, total=False):
    """What the system of record said about the order an action names (agents/orders.py)."""

    lookup: Literal["found", "not_found", "unverified", "unavailable"]
    operation: str  # the read that gave them
    order: dict[str, Any]  # the order as the system has it: status, total, currency, refunded, refundable, dates...
    error: str | None
    replay: str  # the key of the desk's own write these facts were decided on (a turn running again)


class Execution(TypedDict, total=False):
    """What happened when an approved action was carried out in a company system (agents/ticketing/execute.py)."""

    status: Literal["executed", "refused", "failed", "dry_run", "skipped"]
    operation: str
    key: str  # the idempotency key the call carried
    reference: str | None  # the system's reference (RF-…, CX-…)
    result: dict[str, Any]
    message: str | None  # the system's refusal, in plain words
    error: str | None  # why the call could not be completed (after retries)
    replayed: bool
    already: bool  # an earlier message of the thread asked for exactly this, and that one was carried out


class TicketRef(TypedDict, total=False):
    id: str
    status: str
    priority: str
    queue: str
    created: bool


class LLMCall(TypedDict):
    id: str
    agent: str
    model: str
    input_tokens: int
    output_tokens: int
    error: str | None  # set when the provider failed and the agent fell back
    turn: int


def merge_calls(left: list[LLMCall] | None, right: list[LLMCall] | None) -> list[LLMCall]:
    """Append LLM call records, ignoring ones already present (sub-graphs echo them back)."""
    left = list(left or [])
    seen = {c["id"] for c in left}
    return left + [c for c in (right or []) if c["id"] not in seen]


class SpecialistState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    customer: Customer
    request: str  # the new text of the customer's message, redacted (agents/turn/quoted.py)
    quoted: str | None  # the mail history quoted under it: context for a person, never a request
    triage: Triage | None
    research: Research | None
    facts: Facts | None
    compliance: Decision | None
    ticket: TicketRef | None
    execution: Execution | None
    llm_calls: Annotated[list[LLMCall], merge_calls]
    answer: str | None
    started_at: float  # when the customer's message arrived: a ticket's response times count from it
    outcome: Outcome | None
    turn: int
    clarifications: int  # clarifying questions asked in a row; after two, a person takes over
    message_id: str | None  # the id of the customer message this turn answers (intake sets it)
    part: int | None  # which of the turn's requests (`parts`) is running; keys its ticket and audit entries


class PendingAction(TypedDict, total=False):
    """An action waiting for the customer to give a required detail (kept across turns)."""

    intent: str
    action: str
    args: dict[str, Any]  # the values given so far
    missing: list[str]  # the slots asked for
    since: int  # turn of the last question
    asked: int  # questions asked so far; after two unanswered ones a person takes over
    request: str  # what the customer wrote about it, redacted
    risk: list[str]
    candidate: dict[str, Any] | None  # an amount the customer is asked to confirm


class Part(TypedDict, total=False):
    """One request of the turn's message; `reply` is set when it is done or needs nothing run."""

    index: int  # position in the customer's message
    request: str
    triage: Triage
    missing: list[str]
    reply: dict[str, str] | None  # {"text", "outcome"}
    ticket: TicketRef | None


class Handoff(TypedDict):
    ticket_id: str
    agent: str  # the person's id in the reviewer registry
    name: str  # what the customer reads: "You're talking with Ana from our team"


class SupportState(SpecialistState, total=False):
    plan: list[str]
    route: Annotated[list[str], operator.add]
    error: str | None
    # Several requests and required details (agents/turn/understand.py, agents/supervisor/planner.py):
    parts: list[Part]  # this turn's requests in the order they run
    mark: int  # where the running part's steps start in `route`
    pending: list[PendingAction]  # actions waiting for details, kept across turns
    missing: list[str]  # the slots this turn's reply asks for (empty unless the outcome is needs_info)
    recent: dict[str, Any]  # {intent, turn} of the last action run, the context of a follow-up question
    handoff: Handoff | None  # the person this conversation is handed to (app/store/handoff.py); None: the desk


class SupportInput(TypedDict, total=False):
    """What a caller sends: the new message(s) and optionally who the customer is."""

    messages: Annotated[list[AnyMessage], add_messages]
    customer: Customer
