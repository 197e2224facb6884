"""Run scenarios through a SupportDesk and record what the system decided, turn by turn.

Each scenario gets its own thread (`eval-<run>-<id>`) and its customer id is namespaced by run,
so repeated runs against the same data directory don't feed each other's refund counts.
Paused threads are approved or rejected by a registered reviewer the caller names, or left pending.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from tqdm import tqdm

from agents.conversation import MessageError
from agents.hitl import ReviewPayloadError
from app.eval.data import Scenario

REVIEW_MODES = ("approve", "reject", "leave")


def new_run_id() -> str:
    return time.strftime("%Y%m%d%H%M%S") + uuid.uuid4().hex[:4]


def thread_for(prefix: str, run_id: str, scenario_id: str) -> str:
    return f"{prefix}-{run_id}-{scenario_id}"


def _customer(customer: dict | None, run_id: str) -> dict | None:
    if customer is None:
        return None
    c = dict(customer)
    if c.get("id") is not None:
        c["id"] = f"eval-{run_id}-{c['id']}"
    return c


def _turn_view(desk, thread_id: str, result) -> dict[str, Any]:
    """What one turn decided, read from the thread's state (fields TurnResult leaves out)."""
    values = desk.graph.get_state({"configurable": {"thread_id": thread_id}}).values or {}
    triage, research = values.get("triage") or {}, values.get("research") or {}
    decision = values.get("compliance") or {}
    rule = decision.get("rule_id")
    if result.pending_review:  # paused inside the compliance sub-graph: the rule rides in the review request
        rule = (result.pending_review.get("metadata") or {}).get("rule_id") or rule
    return {
        "intent": result.intent, "category": triage.get("category"), "confidence": result.confidence,
        "route": list(result.route), "outcome": result.outcome, "policy_rule": rule,
        "ticket_id": result.ticket_id, "retrieved": list(research.get("retrieved") or []),
        "citations": [c["doc_id"] for c in result.citations], "grounded": result.grounded,
        "llm_calls": result.llm_calls, "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
    }


def _decide(desk, thread_id: str, mode: str, reviewer: str):
    if mode == "approve":
        return desk.approve(thread_id, reviewer=reviewer, note="automatic decision by the evaluation harness")
    return desk.reject(thread_id, reviewer=reviewer, message="Declined by the evaluation harness.")


def run_scenario(desk, sc: Scenario, review: str = "leave", run_id: str = "run", prefix: str = "eval",
                 reviewer: str | None = None) -> dict:
    """One result line; exceptions become `outcome: error` so the rest of the suite still runs."""
    if review not in REVIEW_MODES:
        raise ValueError(f"review must be one of {REVIEW_MODES}, got {review!r}")
    if review != "leave" and not reviewer:
        raise ValueError(f"review {review!r} needs a reviewer id from the registry")
    tid = thread_for(prefix, run_id, sc.id)
    customer = _customer(sc.customer, run_id)
    trace: list[dict[str, Any]] = []
    reviewed, error = False, None
    start = time.perf_counter()
    msgs = sc.messages
    for i, msg in enumerate(msgs):
        if trace and trace[-1]["final_outcome"] == "escalated_pending_review":
            error = f"paused for review at turn {i}; {len(msgs) - i} later turn(s) not sent (--review leave)"
            break
        try:
            result = desk.send(msg, thread_id=tid, customer=customer)
            view = _turn_view(desk, tid, result)
            view["final_outcome"], rules = view["outcome"], [view["policy_rule"]]
            guard = 0
            while result.pending_review and review != "leave" and guard < 3:
                reviewed, guard = True, guard + 1
                try:
                    result = _decide(desk, tid, review, reviewer)
                except ReviewPayloadError as exc:  # e.g. the reviewer registry does not know `reviewer`
                    error = f"review {review} as {reviewer!r} refused: {exc}"[:500]
                    break
                after = _turn_view(desk, tid, result)
                rules.append(after["policy_rule"])
                view.update({k: after[k] for k in ("ticket_id", "llm_calls", "prompt_tokens", "completion_tokens")})
                view["final_outcome"] = after["outcome"]
            reviewed = reviewed or bool(result.pending_review)
            view["policy_rules"] = [r for r in dict.fromkeys(rules) if r]
        except MessageError as exc:
            error = str(exc)
            view = {"outcome": "error", "final_outcome": "error", "policy_rules": []}
        except Exception as exc:  # a failing node must not end the run: record it, go on
            error = f"{type(exc).__name__}: {exc}"[:500]
            view = {"outcome": "error", "final_outcome": "error", "policy_rules": []}
        trace.append({"turn": i + 1, **view})
        if view["outcome"] == "error" or error:
            break
    return _result(sc, tid, trace, reviewed, error, review, round((time.perf_counter() - start) * 1000, 1))


def _result(sc: Scenario, tid: str, trace: list[dict], reviewed: bool, error: str | None, review: str,
            latency_ms: float) -> dict:
    last = trace[-1] if trace else {}
    rules = [r for t in trace for r in t.get("policy_rules", [])]
    tickets = [t["ticket_id"] for t in trace if t.get("ticket_id")]
    return {
        "id": sc.id, "intent": last.get("intent"), "category": last.get("category"),
        "confidence": last.get("confidence"), "route": last.get("route", []), "outcome": last.get("outcome", "error"),
        "policy_rules": list(dict.fromkeys(rules)), "review": reviewed, "ticket_id": tickets[-1] if tickets else None,
        "retrieved": last.get("retrieved", []), "citations": last.get("citations", []),
        "grounded": last.get("grounded"),
        "llm_calls": sum(t.get("llm_calls", 0) for t in trace),
        "prompt_tokens": sum(t.get("prompt_tokens", 0) for t in trace),
        "completion_tokens": sum(t.get("completion_tokens", 0) for t in trace),
        "latency_ms": latency_ms, "error": error,
        "thread_id": tid, "final_outcome": last.get("final_outcome", "error"), "review_mode": review,
        "turns": len(sc.messages),
        "trace": [{k: t.get(k) for k in ("turn", "intent", "route", "outcome", "policy_rules", "final_outcome")}
                  for t in trace],
    }


def run_suite(desk, scenarios: list[Scenario], review: str = "leave", run_id: str | None = None,
              prefix: str = "eval", progress: bool = True, reviewer: str | None = None,
              on_result: Callable[[dict], None] | None = None) -> list[dict]:
    run_id = run_id or new_run_id()
    results = []
    for sc in _progress(scenarios, progress, prefix):
        res = run_scenario(desk, sc, review=review, run_id=run_id, prefix=prefix, reviewer=reviewer)
        results.append(res)
        if on_result:
            on_result(res)
    return results


def _progress(items: list, enabled: bool, desc: str) -> Iterable:
    if not enabled:
        return items
    return tqdm(items, desc=desc, unit="scenario", file=sys.stderr, dynamic_ncols=True)
