"""What each node's result means for the audit trail, in one place.

Review decisions are audited from checkpointed state only (the compliance sub-graph's `record` node); what the
review loop itself writes is an attempt it refused (`review_refused`, true whether or not its run survives) or an
edit whose re-ask was answered, hence durable (`review_edit`). Keys come from the review (interrupt) id, since
the review node re-runs from the top on every resume.
"""

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
        r, held = update["research"], update["research"].get("withheld")
        verdict = ("grounded" if r.get("grounded") else f"withheld for a person: {'; '.join(held['reasons'])}"
                   if held else "not grounded: withheld, flagged for a human")
        out.append({"event": "answer", "agent": "research", "reason": verdict,
                    "evidence": {"retrieved": r.get("retrieved"),
                                 "cited": [c["doc_id"] for c in r.get("citations") or []],
                                 "unsupported": r.get("unsupported"), "answered_by": r.get("answered_by"),
                                 "checked_by": r.get("grounding_by"),
                                 **({"degraded": r["degraded"]} if r.get("degraded") else {})}})
        if held:  # retrieved text told the customer to hand over a secret or go elsewhere (answer_guard.py)
            out.append({"event": "answer_withheld", "agent": "research", "reason": "; ".join(held["reasons"]),
                        "evidence": {"findings": held["findings"], "documents": held["documents"],
                                     "answered_by": held.get("answered_by"), "retrieved": r.get("retrieved")}})
    elif node == "evaluate":
        d = update["compliance"]
        out.append({"event": "policy_decision", "agent": "compliance", "actor": None,
                    "reason": f"{d['effect']} → {d['status']} by rule {d['rule_id']}: {d.get('reason', '')}",
                    "evidence": {"rule_id": d["rule_id"], "policy_version": d["policy_version"],
                                 "action": d.get("action"), "review": None}})
    elif node == "record_decision" and (d := state.get("compliance") or {}).get("review"):
        # Written by the node after `review`, from its checkpointed state: a decision lost to a crash is never
        # named, and a replay finds the same key (the review id).
        review = d["review"]
        via = f" via {review['via']}" if review.get("via") else ""
        out.append({"event": "review_decision", "agent": "compliance", "actor": f"reviewer:{review['reviewer']}",
                    "suffix": review.get("review_id") or "review",
                    "reason": f"{d['effect']} → {d['status']} by rule {d['rule_id']}: {d.get('reason', '')} "
                              f"({review['decision']} by {review['reviewer']}{via})",
                    "evidence": {"rule_id": d["rule_id"], "policy_version": d["policy_version"],
                                 "action": d.get("action"), "review": review}})
    elif node == "open_ticket":
        t = update["ticket"]
        out.append({"event": "ticket", "agent": "ticketing",
                    "reason": f"ticket {t['id']} {'created' if t.get('created') else 'reused (idempotent)'}",
                    "evidence": t})
    return out


def audit_update(svc, thread_id: str, node: str, state: dict, update: Any) -> None:
    turn = state.get("turn", 0)
    part = f":{state['part']}" if state.get("part") is not None else ""  # several requests in one message
    for e in events_for(node, state, update):
        key = f"{thread_id}:{turn}:{e['event']}:{e.get('suffix', node)}{part}"
        svc.audit.record(key, thread_id, e["agent"], e["event"], e.get("reason", ""), actor=e.get("actor"),
                         evidence=e.get("evidence"), model=e.get("model"), tokens=e.get("tokens", 0))


def record_refusal(svc, thread_id: str, review_id: str, digest: str, actor: str, error: str,
                   evidence: dict[str, Any]) -> None:
    """A decision the review loop refused and re-asked (keyed by the review and the decision, so a replay of
    the same answer logs nothing new)."""
    svc.audit.record(f"{thread_id}:review_refused:{review_id}:{digest}", thread_id, "compliance", "review_refused",
                     error[:500], actor=actor, evidence={**evidence, "review_id": review_id})


def record_edit(svc, thread_id: str, previous: dict[str, Any]) -> None:
    """An edit that sent the action back for review under another rule: `previous` from the next interrupt's
    metadata, written once that interrupt was answered (graph) or is on disk (API), i.e. once it took effect."""
    via = f" via {previous['via']}" if previous.get("via") else ""
    svc.audit.record(
        f"{thread_id}:review_edit:{previous['review_id']}", thread_id, "compliance", "review_edit",
        f"edit by {previous['reviewer']}{via} under rule {previous['rule_from']}: re-asked under rule "
        f"{previous['rule_to']}", actor=f"reviewer:{previous['reviewer']}", evidence=previous)
