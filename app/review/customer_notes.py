"""A message from a customer whose request waits for a review: accepted, never an error.

The message was validated and redacted like any other (`ThreadRunner.prepare`). Under the thread's lock it is
read, then one of:
- a withdrawal ("never mind, cancel that request", agents/turn/withdrawal.py): the review is resumed with a signed
  customer `withdraw`, which ends it with no ticket (the graph audits it, actor `customer`);
- a question unrelated to the request ("how do I reset my password?"): answered by the research sub-graph, run
  on its own so the paused review is left as it is; the customer hears their request is still with the team;
- small talk ("thanks"): a fitting reply and the same reminder;
- a question about the request itself ("how long does that review usually take?"): attached for the reviewer,
  and answered too when the help centre answers it ("usually within 2 business days"), instead of only
  "I've added that to your request";
- anything else (new details: "it's order BW-40404, $80, the speaker crackles", an unanswered question): the
  review is resumed with a signed `customer_message`, which the review loop attaches to the item and re-asks,
  so the inbox and console show it (`customer_notes`); attaching is audited here, once its checkpoint is on disk.
A resume also adds the message (and the reply to a note) to the thread's history, in the same run
(`Command(resume=..., update=...)`); a question or small talk leaves the paused thread as it is, so those
exchanges are kept beside it (app/store/asides.py) and shown in place by `SupportDesk.history`.
A resume takes the review's claim, as a reviewer's decision does: while a reviewer is deciding, the message is
answered and audited but not attached, and the customer is told the decision is being made.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.types import Command

from agents.compliance.review import WITHDRAWN_REPLY
from agents.supervisor.conversation import compose_reply
from agents.supervisor.replies import conversational
from agents.turn.withdrawal import withdraws
from app.review.door import CUSTOMER_CLAIM, review_id_of
from app.services import Services
from app.steps import Call, ReadState, Run, Steps
from app.store.review_claims import ClaimTakenError
from app.threads import ThreadRunner
from app.turn_result import HOLDING_REPLY, TurnResult, turn_result
from graphs import research as research_graph

NOTED = ("Thanks, I've added that to your request, so the team reviewing it will see it. "
         "We'll get back to you as soon as it's decided.")
STILL_WITH_TEAM = ("Your earlier request is still with our team for review; "
                   "we'll get back to you as soon as it's decided.")
BEING_DECIDED = ("Our team is deciding on your request right now, so I couldn't add this to it. "
                 "We'll get back to you in a moment.")
TOO_LATE = ("Our team is deciding on your request right now, so I couldn't withdraw it. "
            "We'll get back to you in a moment; if it goes ahead and you don't want it, just tell us.")
QUESTION_WORDS = frozenset("how what when where why who which can could do does is are will would should may "
                           "comment quand pourquoi est-ce wie was wann warum kann cómo como qué cuándo puedo".split())


def asks(text: str) -> bool:
    words = text.strip().lower().split()
    return "?" in text or (bool(words) and words[0].strip(",.!¿") in QUESTION_WORDS)


def kind_of(triage: dict, text: str, pending_intent: str | None, svc: Services) -> str:
    """"question" (answer it), "chat" (small talk), "related" (a question about the request: attach it, and answer
    it if the help centre can), or "note" (attach it to the pending review)."""
    ents = triage.get("entities") or {}
    if ents.get("order_ids") or ents.get("amount") is not None or ents.get("amounts"):
        return "note"  # details of the request
    if triage.get("kind") == "conversation" and triage.get("intent") != "unclear":
        return "chat"
    if triage.get("kind") == "question" and asks(text):
        related = pending_intent and svc.taxonomy.describe(pending_intent).get("category") == triage.get("category")
        return "related" if related else "question"  # "any update on my refund?" is for the reviewer too
    return "note"


def _sub_input(text: str, message_id: str, values: dict) -> dict:
    # `part` keys the sub-graphs' audit entries apart from the paused turn's own.
    return {"request": text, "messages": [HumanMessage(content=text, id=message_id)], "turn": values.get("turn", 0),
            "part": f"pending:{message_id}", "customer": values.get("customer") or {}}


def read_message(text: str, message_id: str, config: dict, values: dict):
    """A step: the triage sub-graph on the message alone (no checkpointer: the thread's state is not touched)."""
    def run(runner: ThreadRunner) -> dict:
        return runner.services.triage(_sub_input(text, message_id, values), config)
    return run


def answer_question(text: str, message_id: str, triage: dict, config: dict, values: dict):
    def run(runner: ThreadRunner) -> dict:
        return research_graph.graph.invoke({**_sub_input(text, message_id, values), "triage": triage}, config,
                                           context=runner.context)
    return run


def _now() -> str:
    return datetime.now(UTC).isoformat()


def resume_steps(services: Services, thread_id: str, config: dict, snapshot: Any, kind: str, text: str,
                 message_id: str, reply: str | None = None) -> Steps:
    """Claim the review, resume it with a signed customer value, read the thread after; None if a reviewer holds
    the claim (nothing was changed). The message (and `reply`) join the thread's history in the same run."""
    interrupt = snapshot.interrupts[0]
    meta = interrupt.value.get("metadata") or {}
    rid = review_id_of(interrupt)
    opened = meta.get("opened") or {"review_id": rid, "at": snapshot.created_at}
    body = {"type": kind, "text": text, "message_id": message_id, "at": _now(), "opened": opened}
    body["signature"] = services.sign_decision(thread_id, rid, body)
    try:
        services.claims.claim(thread_id, rid, CUSTOMER_CLAIM, kind)
    except ClaimTakenError:
        return None
    try:
        history = [HumanMessage(content=text, id=message_id), *([AIMessage(content=reply)] if reply else [])]
        yield Run(Command(resume={interrupt.id: {"customer": body}}, update={"messages": history}), config, "invoke")
    except BaseException:
        services.claims.release(thread_id, rid)
        raise
    services.claims.finish(thread_id, rid)
    return (yield ReadState(config))


def _attached(snapshot: Any, message_id: str) -> dict | None:
    if not snapshot.interrupts:
        return None
    notes = (snapshot.interrupts[0].value.get("metadata") or {}).get("customer_notes") or []
    return next((n for n in notes if n.get("message_id") == message_id), None)


def _audit(services: Services, thread_id: str, event: str, reason: str, evidence: dict, key: str) -> None:
    services.audit.record(f"{thread_id}:{event}:{key}", thread_id, "reviews", event, reason, actor="customer",
                          evidence=evidence)


def pending_steps(services: Services, payload: dict, config: dict, snapshot: Any) -> Steps[TurnResult]:
    """`send_steps`'s `on_pending`: the turn for a message that arrives while the thread waits for a review."""
    thread_id = config["configurable"]["thread_id"]
    message = payload["messages"][0]
    text, message_id = str(message.content), str(message.id)
    values = snapshot.values or {}
    meta = snapshot.interrupts[0].value.get("metadata") or {}
    evidence = {"rule_id": meta.get("rule_id"), "review_id": review_id_of(snapshot.interrupts[0]),
                "message_id": message_id, "text": text}
    if withdraws(text):
        after = yield from resume_steps(services, thread_id, config, snapshot, "withdraw", text, message_id)
        if after is None:
            return _busy(services, thread_id, snapshot, evidence, "withdraw")
        decision = (after.values or {}).get("compliance") or {}
        return turn_result(thread_id, after).model_copy(update={
            "answer": decision.get("message") or WITHDRAWN_REPLY, "outcome": "withdrawn"})

    if _attached(snapshot, message_id):  # sent again (same message id): attached already
        return turn_result(thread_id, snapshot).model_copy(update={"answer": NOTED})
    read = yield Call(read_message(text, message_id, config, values), config)
    triage = read.get("triage") or {}
    calls = list(read.get("llm_calls") or [])
    kind = kind_of(triage, text, meta.get("intent"), services)
    update: dict[str, Any] = {"intent": triage.get("intent"), "confidence": triage.get("confidence")}
    noted, outcome = NOTED, "escalated_pending_review"
    if kind in ("question", "related"):
        if kind == "related":  # about the request that waits: searched with its topic, as a follow-up is
            topic = str(meta.get("intent") or "").replace("_", " ")
            triage = {**triage, "search_text": f"{topic} {triage.get('search_text') or text}".strip()}
        found = yield Call(answer_question(text, message_id, triage, config, values), config)
        research = found.get("research") or {}
        calls += [c for c in found.get("llm_calls") or [] if c not in calls]
        update.update(citations=research.get("citations") or [], grounded=research.get("grounded"))
        if research.get("grounded"):
            answer, _ = compose_reply({"triage": triage, "research": research})
            if kind == "question":
                _audit(services, thread_id, "customer_message_pending", "question answered while a review is "
                       "pending", {**evidence, "kind": "question"}, message_id)
                reply = f"{answer}\n\n{STILL_WITH_TEAM}"
                _aside(services, thread_id, snapshot, message_id, text, reply)
                return _result(thread_id, snapshot, reply, "answered", update, calls)
            noted, outcome = f"{answer}\n\n{NOTED}", "answered"  # answered, and the reviewer sees it too
        kind = "note"  # the person reviewing the request sees it
    if kind == "chat":
        _audit(services, thread_id, "customer_message_pending", "small talk while a review is pending",
               {**evidence, "kind": "chat"}, message_id)
        reply = f"{conversational(triage)}\n\n{STILL_WITH_TEAM}"
        _aside(services, thread_id, snapshot, message_id, text, reply)
        return _result(thread_id, snapshot, reply, "escalated_pending_review", update, calls)
    after = yield from resume_steps(services, thread_id, config, snapshot, "customer_message", text, message_id,
                                    noted)
    if after is None:
        return _busy(services, thread_id, snapshot, evidence, "note")
    note = _attached(after, message_id)
    if note is None:  # the review loop refused it (it says why in the item's error): nothing attached
        _audit(services, thread_id, "customer_note_refused", "the review step did not attach the customer's message",
               evidence, message_id)
        return _result(thread_id, after, HOLDING_REPLY, "escalated_pending_review", update, calls)
    _audit(services, thread_id, "customer_note", "customer added details to the request pending review",
           {**evidence, "attached_to": review_id_of(after.interrupts[0])}, message_id)
    return _result(thread_id, after, noted, outcome, update, calls)


def _aside(services: Services, thread_id: str, snapshot: Any, message_id: str, text: str, reply: str) -> None:
    """Kept beside the paused thread (app/store/asides.py): the customer sees the exchange after a reload too."""
    after = len((snapshot.values or {}).get("messages") or [])
    services.asides.add(thread_id, message_id, after, text, reply)


def _busy(services: Services, thread_id: str, snapshot: Any, evidence: dict, kind: str) -> TurnResult:
    _audit(services, thread_id, "customer_note_unattached", "a reviewer was deciding: the message was not attached",
           {**evidence, "kind": kind}, f"{evidence['message_id']}:{time.time_ns()}")
    answer = TOO_LATE if kind == "withdraw" else BEING_DECIDED
    return turn_result(thread_id, snapshot).model_copy(update={"answer": answer})


def _result(thread_id: str, snapshot: Any, answer: str, outcome: str, update: dict, calls: list) -> TurnResult:
    return turn_result(thread_id, snapshot).model_copy(update={
        **update, "answer": answer, "outcome": outcome, "llm_calls": len(calls),
        "prompt_tokens": sum(c.get("input_tokens", 0) for c in calls),
        "completion_tokens": sum(c.get("output_tokens", 0) for c in calls)})
