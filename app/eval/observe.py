"""What one turn did, read from the desk's reply, the thread's state and the ticket store.

The harness measures behaviour rather than trusting one field: a turn's tickets are the tickets the
store gained for the thread during the turn (two requests in one message may open two), and its
actions are every action a policy decision, a pending review or a new ticket carried. Fields a desk
may or may not expose (detected language, the details it asked for) are looked up under the names
they are likely to have and recorded as None when absent, so the scorer can tell "not reported"
from "wrong".
"""

from __future__ import annotations

import json
from typing import Any

from app.eval.figures import required_args

# Where a desk may report the details it is still missing (TurnResult attribute or state key).
MISSING_KEYS = ("missing", "missing_slots", "slots_missing", "needs", "needs_info")
LANGUAGE_KEYS = ("language", "lang", "detected_language")


def ticket_ids(desk, thread_id: str) -> set[str]:
    try:
        return {t["id"] for t in desk.services.tickets.list(thread_id=thread_id)}
    except Exception:  # a store the harness cannot read must not end the run; the reply's ticket id remains
        return set()


def new_tickets(desk, thread_id: str, before: set[str]) -> list[dict]:
    try:
        rows = desk.services.tickets.list(thread_id=thread_id)
    except Exception:  # as in ticket_ids
        return []
    return sorted((t for t in rows if t["id"] not in before), key=lambda t: t.get("created_at") or 0)


def _names(value: Any) -> list[str] | None:
    """Slot names from a list of names, a list of {name: …} or a mapping keyed by name."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, dict):
        if isinstance(value.get("missing"), list | dict):
            return _names(value["missing"])
        return [str(k) for k in value]
    if isinstance(value, list | tuple):
        return [str(v.get("name") if isinstance(v, dict) else v) for v in value]
    return [str(value)]


def _first(sources: list[dict | object], keys: tuple[str, ...]) -> Any:
    for src in sources:
        for key in keys:
            value = src.get(key) if isinstance(src, dict) else getattr(src, key, None)
            if value not in (None, "", [], {}):
                return value
    return None


def _action(name: Any, args: dict | None, intent: Any, rule: Any, effect: Any, source: str,
            taxonomy) -> dict[str, Any]:
    args = {k: v for k, v in (args or {}).items() if k != "intent"}
    return {"name": name, "intent": intent, "args": args, "rule": rule, "effect": effect, "source": source,
            "required": list(required_args(intent, name, taxonomy))}


def action_key(action: dict) -> str:
    return json.dumps([action.get("name"), action.get("args") or {}], sort_keys=True, default=str)


def dedupe(actions: list[dict]) -> list[dict]:
    out: dict[str, dict] = {}
    for a in actions:
        out.setdefault(action_key(a), a)
    return list(out.values())


def state_actions(values: dict, result, taxonomy) -> list[dict]:
    """Actions the policy decided this turn, and the one a pending review holds."""
    out = []
    decisions = values.get("compliance")
    triage_intent = (values.get("triage") or {}).get("intent")
    for d in decisions if isinstance(decisions, list) else [decisions] if decisions else []:
        act = d.get("action") or {}
        args = act.get("args") or {}
        out.append(_action(act.get("name"), args, args.get("intent") or triage_intent, d.get("rule_id"),
                           d.get("effect"), "policy", taxonomy))
    pending = result.pending_review or {}
    meta = pending.get("metadata") or {}
    for req in pending.get("action_requests") or []:
        out.append(_action(req.get("name"), req.get("args"), meta.get("intent") or triage_intent,
                           meta.get("rule_id"), "review", "review", taxonomy))
    return out


def ticket_actions(tickets: list[dict], taxonomy) -> list[dict]:
    out = []
    for t in tickets:
        act, policy = t.get("action") or {}, t.get("policy") or {}
        if act.get("name") in (None, "follow_up"):  # an unanswered question handed to a person, not an action
            continue
        args = act.get("args") or {}
        out.append(_action(act.get("name"), args, args.get("intent") or t.get("intent"), policy.get("rule_id"),
                           policy.get("effect"), "ticket", taxonomy))
    return out


def observe(desk, thread_id: str, result) -> dict[str, Any]:
    """One reply, with what the thread's state says about it (fields TurnResult leaves out)."""
    values = desk.graph.get_state({"configurable": {"thread_id": thread_id}}).values or {}
    triage, research = values.get("triage") or {}, values.get("research") or {}
    decision = values.get("compliance") or {}
    rule = decision.get("rule_id") if isinstance(decision, dict) else None
    if result.pending_review:  # paused inside the compliance sub-graph: the rule rides in the review request
        rule = (result.pending_review.get("metadata") or {}).get("rule_id") or rule
    taxonomy = taxonomy_of(desk)
    return {
        "intent": result.intent, "category": triage.get("category"), "confidence": result.confidence,
        "route": list(result.route), "outcome": result.outcome, "policy_rule": rule,
        "ticket_id": result.ticket_id, "retrieved": list(research.get("retrieved") or []),
        "citations": [c["doc_id"] for c in result.citations], "grounded": result.grounded,
        "llm_calls": result.llm_calls, "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "answer": result.answer, "pending": bool(result.pending_review),
        "language": _first([result, triage, values], LANGUAGE_KEYS),
        "missing": _names(_first([result, values, triage], MISSING_KEYS)),
        "actions": state_actions(values, result, taxonomy),
    }


def taxonomy_of(desk):
    try:
        return desk.services.taxonomy
    except Exception:  # an unreadable taxonomy falls back to the built-in table of required arguments
        return None
