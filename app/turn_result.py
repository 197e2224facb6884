"""What one turn (or one resume) produced, read from the thread's snapshot: the fields `ask --json` prints, the
HTTP API returns and the console shows."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.supervisor.conversation import SOURCES

HOLDING_REPLY = "Your request needs a quick review by our team. We'll get back to you as soon as it's decided."


class TurnResult(BaseModel):
    """What one turn (or one resume) produced: the fields `ask --json` prints."""

    thread_id: str
    answer: str | None = None
    outcome: str | None = None
    intent: str | None = None
    confidence: float | None = None
    urgency: str | None = None
    route: list[str] = Field(default_factory=list)
    citations: list[dict] = Field(default_factory=list)
    grounded: bool | None = None
    ticket_id: str | None = None
    ticket: dict | None = None
    policy: dict | None = None
    pending_review: dict | None = None
    execution: dict | None = Field(None, description="What carrying the action out in the company's system came to: "
                                   "status (executed, refused, failed, dry_run), operation, reference, key.")
    handoff: dict | None = Field(None, description="The person this conversation is with (ticket_id, agent, name): "
                                 "the message went to them and the desk did not answer.")
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


def turn_result(thread_id: str, snapshot) -> TurnResult:
    """The TurnResult a thread's snapshot reads as: its latest turn, or the review it waits for."""
    v = snapshot.values or {}
    triage, research = v.get("triage") or {}, v.get("research") or {}
    decision, ticket = v.get("compliance") or {}, v.get("ticket") or {}
    pending = snapshot.interrupts[0].value if snapshot.interrupts else None
    calls = [c for c in v.get("llm_calls") or [] if c.get("turn") == v.get("turn")]  # this turn's calls
    answer = held_reply(v) if pending else v.get("answer")
    # Sources only for a reply that cites them: an approved refund once showed "Source: Refunds and returns"
    # (the articles retrieved for the request), which explain nothing about what was done.
    cited = research.get("citations") if SOURCES in (answer or "") else []
    return TurnResult(
        thread_id=thread_id,
        answer=answer,
        outcome="escalated_pending_review" if pending else v.get("outcome"),
        intent=triage.get("intent"),
        confidence=triage.get("confidence"),
        urgency=triage.get("urgency"),
        route=v.get("route") or [],
        citations=cited or [],
        grounded=research.get("grounded"),
        ticket_id=ticket.get("id"),
        ticket=ticket or None,
        policy={k: decision.get(k) for k in ("effect", "rule_id", "policy_version", "status", "reason")}
        if decision else None,
        pending_review=pending,
        execution={k: e.get(k) for k in ("status", "operation", "reference", "key", "message", "error")}
        if (e := v.get("execution")) and not pending else None,
        handoff=v.get("handoff") if not pending else None,
        llm_calls=len(calls),
        prompt_tokens=sum(c["input_tokens"] for c in calls),
        completion_tokens=sum(c["output_tokens"] for c in calls),
    )


def held_reply(values: dict) -> str:
    """The reply while part of the turn waits for a review: the replies of the turn's finished requests (e.g. a
    password answer given with the paused refund) first, then the holding reply."""
    parts = sorted(values.get("parts") or [], key=lambda p: p.get("index", 0))
    done = [p["reply"]["text"] for p in parts if (p.get("reply") or {}).get("text")]
    return "\n\n".join([*done, HOLDING_REPLY])


class CustomerTurn(BaseModel):
    """What a channel may show its customer of a turn: the answer, its sources, the ticket reference and whether
    a person is looking at it. The team's machinery (rule, reviewer role, queue, limits, customer notes, the
    action's arguments, routes, model usage) stays on the team's side (`TurnResult`, reviewer routes)."""

    thread_id: str
    answer: str | None = None
    outcome: str | None = None
    citations: list[dict] = Field(default_factory=list)
    ticket_id: str | None = None
    ticket_status: str | None = None
    with_team: bool = Field(False, description="A person is reviewing this request; their answer follows here.")
    action_status: str | None = Field(None, description="executed, refused, failed (a person completes it) or "
                                      "dry_run, when the turn carried out an action.")
    action_reference: str | None = Field(None, description="The company system's reference for it (RF-…, CX-…).")
    talking_with: str | None = Field(None, description="A person has taken this conversation over: the message went "
                                     "to them (their first name), and the desk did not answer.")

    @classmethod
    def of(cls, result: TurnResult) -> CustomerTurn:
        return cls(thread_id=result.thread_id, answer=result.answer, outcome=result.outcome,
                   citations=[{k: c.get(k) for k in ("title", "doc_id", "snippet") if k in c}
                              for c in result.citations],
                   ticket_id=result.ticket_id, ticket_status=(result.ticket or {}).get("status"),
                   with_team=bool(result.pending_review),
                   action_status=(result.execution or {}).get("status"),
                   action_reference=(result.execution or {}).get("reference"),
                   talking_with=(result.handoff or {}).get("name"))
