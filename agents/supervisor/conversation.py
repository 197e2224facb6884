"""Turn boundaries: validate and redact what comes in, compose what goes out."""

from __future__ import annotations

import time
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, RemoveMessage
from langgraph.types import Overwrite

from agents.compliance.reviewers import registry_for
from agents.services import Services
from agents.state import SupportState
from agents.supervisor import replies
from agents.turn import smalltalk
from agents.turn.quoted import new_text, split_quoted
from knowledge.pii import find_pii, redact

MAX_MESSAGE_CHARS = 20_000


class MessageError(ValueError):
    """The customer's message cannot be processed; nothing was recorded."""


def message_text(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multimodal content blocks: keep the text parts
        return " ".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    raise MessageError(f"unsupported message content of type {type(content).__name__}")


def validate_message(text) -> str:
    if isinstance(text, (bytes, bytearray)):
        raise MessageError("message must be text, not bytes")
    if not isinstance(text, str):
        raise MessageError(f"message must be a string, got {type(text).__name__}")
    if "\x00" in text or sum(not (c.isprintable() or c.isspace()) for c in text) > max(3, len(text) // 20):
        raise MessageError("message looks like binary data, not text")
    text = text.encode("utf-8", "replace").decode("utf-8").strip()
    if not text:
        raise MessageError("message is empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise MessageError(f"message is {len(text):,} characters; the limit is {MAX_MESSAGE_CHARS:,}")
    return text


def intake(state: SupportState, svc: Services, thread_id: str) -> dict:
    """Start a turn: the newest human message, redacted, becomes the request every specialist reads.

    Contact details the customer gave go to the vault (for a human to reach them), nowhere else.
    """
    last = state["messages"][-1] if state.get("messages") else None
    # The message's id keys this turn's side effects (a ticket per message, even if two turns ever collided).
    reset = {"quoted": None, "triage": None, "research": None, "facts": None, "compliance": None, "execution": None,
             "answer": None, "plan": [],
             "route": Overwrite([]), "error": None, "turn": state.get("turn", 0) + 1, "started_at": time.time(),
             "message_id": getattr(last, "id", None)}
    try:
        if not isinstance(last, HumanMessage):
            raise MessageError("the conversation has no new customer message")
        text = validate_message(message_text(last.content))
    except MessageError as exc:
        removal = [RemoveMessage(id=last.id)] if last is not None and last.id else []
        return {**reset, "messages": removal, "outcome": "error", "error": str(exc)}
    found = find_pii(text)
    svc.vault.keep(thread_id, {k: v for k, v in found.items() if k in ("email", "phone")})
    clean = redact(text)
    new, quoted = split_quoted(clean)  # the quoted history is context, never a request
    update = {**reset, "request": new, "quoted": quoted or None, "outcome": None, "ticket": None,
              "handoff": handed_to(svc, thread_id)}
    if clean != last.content:  # keep personal data out of the checkpointed history
        update["messages"] = [HumanMessage(content=clean, id=last.id)]
    return update


def handed_to(svc: Services, thread_id: str) -> dict | None:
    """The person this conversation is with (a ticket they replied on or took, app/store/handoff.py), or None."""
    held = svc.tickets.held(thread_id) if hasattr(svc.tickets, "held") else None
    if not held:
        return None
    person = next((r for r in registry_for(svc.settings).reviewers if r.id == held["held_by"]), None)
    return {"ticket_id": held["id"], "agent": held["held_by"],
            "name": person.name.split()[0] if person else "a colleague"}


# What the customer hears an action called: "Your cancellation for order BW-1 …", not "Your cancel order …".
ACTION_NOUNS = {"refund": "refund", "cancel_order": "cancellation", "account_change": "account change",
                "close_account": "account closure"}


def _money(args: dict) -> str:
    if args.get("amount") is None:
        return ""
    return f" of {args.get('currency', 'USD')} {args['amount']:,.2f}"


SOURCES = "\n\nSources: "


def _sources(research: dict) -> str:
    """The help-centre articles an answer came from, by their titles (a customer has no use for file names)."""
    titles = list(dict.fromkeys(c["title"] for c in research.get("citations") or [] if c.get("title")))
    return SOURCES + "; ".join(titles) if titles else ""


def without_sources(text: str) -> str:
    """The answer without its sources line, for a page that shows the sources itself (once, under the answer)."""
    return text.split(SOURCES, 1)[0]


def _amount(value: Any, currency: str | None) -> str:
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency or "USD")
    return f"{symbol}{float(value):,.2f}" if symbol else f"{float(value):,.2f} {currency}"


def _refunded(result: dict, args: dict) -> str:
    """The money a refund moved, as the system reported it (the request's amount and currency where it did not)."""
    done = result.get("refund") or {}
    return _amount(done.get("amount", args.get("amount") or 0), done.get("currency") or args.get("currency"))


def executed_reply(action: dict, execution: dict, ticket: dict) -> str:
    """What actually happened in the company's system, in plain words: done (with its reference), refused (the
    system's reason), or in progress with a person (never "done" when it is not)."""
    args, status = action.get("args") or {}, execution["status"]
    order = args.get("order_id") or "your order"
    result, ref = execution.get("result") or {}, execution.get("reference")
    name = ACTION_NOUNS.get(action["name"], action["name"].replace("_", " "))
    if status == "executed" and execution.get("already"):
        what = {"refund": f"refunded {_refunded(result, args)} for order {order}",
                "cancel_order": f"cancelled order {order}"}.get(action["name"], f"made this {name}")
        return (f"I already {what} when you first asked (reference {ref}), so I haven't done it a second time; "
                "you don't need to ask again.")
    if status == "executed":
        if action["name"] == "refund":
            return (f"I've refunded {_refunded(result, args)} for order {order} (reference {ref}); it takes 5–10 "
                    "business days to reach your card (PayPal: about 3 business days).")
        if action["name"] == "cancel_order":
            back = (result.get("cancellation") or {}).get("refunded")
            money = f" The {_amount(back, None)} you paid goes back to your original payment method within 5–10 " \
                    "business days." if isinstance(back, int | float) and back > 0 else ""
            return f"I've cancelled order {order} (reference {ref}).{money}"
        field = (result.get("update") or {}).get("field") or args.get("field") or "contact detail"
        return f"I've updated the {field} on your account (reference {ref})."
    if status == "refused":
        return f"I couldn't complete the {name} for order {order}: {execution.get('message')}" \
            if args.get("order_id") else f"I couldn't complete the {name}: {execution.get('message')}"
    where = f" as ticket {ticket['id']}" if ticket.get("id") else ""
    if status == "dry_run":
        return (f"Your {name}{_money(args)} for order {order} is approved, and a colleague will complete it in our "
                f"systems{where}. I'll confirm here once it's done.") if args.get("order_id") else (
            f"Your {name} is approved, and a colleague will complete it{where}.")
    return (f"Your {name}{_money(args)}" + (f" for order {order}" if args.get("order_id") else "")
            + " is approved and in progress: our system didn't respond just now, so a colleague is completing it"
            + f"{where}. You don't need to ask again; we'll confirm once it's done.")


def compose_reply(state: SupportState) -> tuple[str, str]:
    """(reply text, outcome) from what the specialists left in state."""
    if state.get("error"):
        return f"Sorry, I couldn't process that message: {state['error']}", "error"
    triage = state.get("triage") or {}
    if triage.get("kind") == "conversation":  # small talk, off-topic, or a clarifying question
        return replies.conversational(triage), ("needs_info" if triage.get("intent") == "unclear" else "answered")
    research = state.get("research") or {}
    decision = state.get("compliance") or {}
    ticket = state.get("ticket") or {}
    action = decision.get("action") or {}
    args = action.get("args", {})
    status = decision.get("status")
    if status in ("denied", "rejected"):
        refused = decision.get("message") or "We can't do this for you."
        if ticket.get("id"):  # rejected, and what brought it to review stays with a person (planner.follows_up)
            refused += (f" Our {ticket.get('queue', 'support')} team will follow up with you on ticket "
                        f"{ticket['id']}.")
        return refused, "refused"
    if status == "withdrawn":  # the customer withdrew it while it waited for a review
        return decision.get("message") or "Your request has been withdrawn.", "withdrawn"
    if decision and ticket:
        if action["name"] == "escalate":
            return replies.passed_on(triage, ticket), "ticket_created"
        changed = replies.edited_note(decision, args, _amount)  # a reviewer lowered it: why, before what was done
        if state.get("execution"):
            refused = state["execution"]["status"] == "refused"
            # What was done, without sources: the articles retrieved for the request do not explain an action
            # (an approved refund once cited "Items that cannot be refunded").
            return changed + executed_reply(action, state["execution"], ticket), (
                "refused" if refused else "ticket_created")
        who = " after review" if decision.get("review") else ""
        order = f" for order {args['order_id']}" if args.get("order_id") else ""
        name = ACTION_NOUNS.get(action["name"], action["name"].replace("_", " "))
        return (changed + f"Your {name}{_money(args)}{order} has been approved{who}. Reference: ticket "
                f"{ticket['id']}."), "ticket_created"
    if research:
        if research.get("withheld"):  # it told the customer to hand over a secret or go elsewhere: a person answers
            note = f" Reference: ticket {ticket['id']}." if ticket else ""
            return replies.holding(triage) + note, ("ticket_created" if ticket else "answered")
        if research.get("grounded"):
            return replies.answer_note(triage, research) + research["answer"] + _sources(research), "answered"
        note = f" Reference: ticket {ticket['id']}." if ticket else ""
        return (
            "I couldn't confirm an answer from our help centre, so I won't guess. "
            f"A support agent will follow up.{note}"
        ), ("ticket_created" if ticket else "answered")
    return "Thanks, your message has been recorded.", "answered"


def settled_by(state: SupportState, outcome: str) -> tuple[str | None, bool]:
    """(what the turn was, whether the desk settled it without a person), for the share of questions and of
    actions resolved without a person (the operations page, `stats`). An action counts as the desk's when it was
    carried out in the company's system, or refused with its reason, and nobody reviewed it; a question when it was
    answered from the help centre and no ticket was opened. A turn that asks the customer for a detail, small talk,
    or an error is neither: the turn that settles the request counts."""
    if outcome in ("needs_info", "error", "withdrawn") or (state.get("triage") or {}).get("kind") == "conversation":
        return None, False
    decision = state.get("compliance") or {}
    action = decision.get("action") or {}
    if action and action.get("name") != "escalate":
        executed = (state.get("execution") or {}).get("status") in ("executed", "refused")
        return "action", not decision.get("review") and (executed or decision.get("status") == "denied")
    research = state.get("research") or {}
    answered = outcome == "answered" and not state.get("ticket") and not research.get("withheld")
    return "question", answered and (not research or bool(research.get("grounded")))


def _asked_if_bot(state: SupportState) -> bool:
    last = next((m for m in reversed(state.get("messages") or []) if isinstance(m, HumanMessage)), None)
    return last is not None and smalltalk.asks_if_bot(new_text(str(last.content)))


def respond(state: SupportState, svc: Services, thread_id: str) -> dict:
    if state.get("handoff"):  # a person holds the conversation: the message is theirs, the desk says nothing
        svc.metrics.turn(thread_id, state.get("turn", 0), None, "with_person", [], None, kind=None, by_desk=False)
        return {"answer": None, "outcome": "with_person"}
    if state.get("answer") is not None:  # composed upstream: a question for missing details, several requests
        text, outcome = state["answer"], state.get("outcome") or "answered"
    else:
        text, outcome = compose_reply(state)
    triage = state.get("triage") or {}
    if triage.get("intent") != "bot_question" and _asked_if_bot(state) and "automat" not in text:
        text = replies.bot_note(triage.get("language")) + text
    started = state.get("started_at")
    latency = round((time.time() - started) * 1000, 2) if started else None
    turn_calls = [c for c in state.get("llm_calls") or [] if c.get("turn", state.get("turn")) == state.get("turn")]
    kind, by_desk = settled_by(state, outcome)
    svc.metrics.turn(thread_id, state.get("turn", 0), (state.get("triage") or {}).get("intent"), outcome,
                     turn_calls, latency, kind=kind, by_desk=by_desk)
    return {"messages": [AIMessage(content=text)], "answer": text, "outcome": outcome}
