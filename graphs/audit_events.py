"""What each node's result means for the audit trail, in one place."""

from __future__ import annotations

from typing import Any

from langgraph.types import Command


def events_for(node: str, state: dict, update: Any) -> list[dict[str, Any]]:
    if isinstance(update, Command):
        goto = update.goto if isinstance(update.goto, str) else str(update.goto)
        triage = state.get("triage") or {}
        return [{"event": "route", "agent": "supervisor", "suffix": goto,
                 "reason": f"intent {triage.get('intent')} (confidence {triage.get('confidence')}) → {goto}",
                 "evidence": {"plan": (update.update or {}).get("plan"), "done": state.get("route", [])}}]
    update = update or {}
    out: list[dict[str, Any]] = []
    for call in update.get("llm_calls") or []:
        out.append({"event": "llm_call", "agent": call["agent"], "suffix": call["id"],
                    "reason": call.get("error") or "ok", "model": call["model"],
                    "tokens": call["input_tokens"] + call["output_tokens"], "evidence": {}})
    if node == "enrich":
        t = update["triage"]
        out.append({"event": "triage", "agent": "triage",
                    "reason": f"{t['intent']} via {t.get('source')} ({t.get('confidence')})",
                    "evidence": {k: t.get(k) for k in ("intent", "category", "kind", "urgency", "risk", "confidence")}})
    elif node == "check_grounding":
        r = update["research"]
        out.append({"event": "answer", "agent": "research",
                    "reason": "grounded" if r.get("grounded") else "not grounded: withheld, flagged for a human",
                    "evidence": {"retrieved": r.get("retrieved"),
                                 "cited": [c["doc_id"] for c in r.get("citations") or []],
                                 "unsupported": r.get("unsupported"), "answered_by": r.get("answered_by"),
                                 "checked_by": r.get("grounding_by"),
                                 **({"degraded": r["degraded"]} if r.get("degraded") else {})}})
    elif node in ("evaluate", "review"):
        d = update["compliance"]
        review = d.get("review") or {}
        out.append({"event": "review_decision" if node == "review" else "policy_decision", "agent": "compliance",
                    "actor": f"reviewer:{review['reviewer']}" if node == "review" else None,
                    "reason": f"{d['effect']} → {d['status']} by rule {d['rule_id']}: {d.get('reason', '')}",
                    "evidence": {"rule_id": d["rule_id"], "policy_version": d["policy_version"],
                                 "action": d.get("action"), "review": review or None}})
    elif node == "open_ticket":
        t = update["ticket"]
        out.append({"event": "ticket", "agent": "ticketing",
                    "reason": f"ticket {t['id']} {'created' if t.get('created') else 'reused (idempotent)'}",
                    "evidence": t})
    return out


def audit_update(svc, thread_id: str, node: str, state: dict, update: Any) -> None:
    turn = state.get("turn", 0)
    for e in events_for(node, state, update):
        key = f"{thread_id}:{turn}:{e['event']}:{e.get('suffix', node)}"
        svc.audit.record(key, thread_id, e["agent"], e["event"], e.get("reason", ""), actor=e.get("actor"),
                         evidence=e.get("evidence"), model=e.get("model"), tokens=e.get("tokens", 0))
