"""Human-on-the-loop: read how reviewers actually decided and propose policy changes, with evidence.

Only proposes. It never writes the policy file: a person edits it, runs `policy check`, and the new
version is recorded on every later decision. Input is the audit trail (review decisions with the
policy decision that paused them), so the evidence can be traced to individual threads.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

WEEK = 7 * 86400


def review_history(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per human decision: rule that asked, decision, original amount, wait in seconds."""
    paused: dict[str, dict] = {}
    out = []
    for e in entries:  # in chain order
        ev = e.get("evidence") or {}
        if e["event"] == "policy_decision" and e.get("reason", "").startswith("review → pending"):
            paused[e["thread_id"]] = e
        elif e["event"] == "review_decision":
            review = ev.get("review") or {}
            start = paused.pop(e["thread_id"], None)
            if start is None:
                continue
            args = ((start.get("evidence") or {}).get("action") or {}).get("args") or {}
            out.append({"thread_id": e["thread_id"], "rule_id": review.get("rule_id") or ev.get("rule_id"),
                        "action": ((start.get("evidence") or {}).get("action") or {}).get("name"),
                        "decision": review.get("decision"), "reviewer": review.get("reviewer"),
                        "amount": args.get("amount"), "wait": max(0.0, e["ts"] - start["ts"]), "ts": e["ts"]})
    return out


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def _stats(rows: list[dict], span_weeks: float) -> dict[str, Any]:
    approved = sum(r["decision"] == "approve" for r in rows)
    return {"reviews": len(rows), "approved": approved, "approval_rate": round(approved / len(rows), 4),
            "edited": sum(r["decision"] == "edit" for r in rows),
            "rejected": sum(r["decision"] == "reject" for r in rows),
            "median_wait_seconds": statistics.median(r["wait"] for r in rows),
            "per_week": round(len(rows) / span_weeks, 1)}


def _limit_pairs(policy: Any) -> list[tuple[Any, Any]]:
    """(automatic rule with amount_lte L, review rule with amount_gt L) for the same action."""
    pairs = []
    for auto in policy.rules:
        if auto.effect != "allow" or auto.when.amount_lte is None:
            continue
        for rev in policy.rules:
            if rev.effect == "review" and rev.when.amount_gt == auto.when.amount_lte and \
                    set(rev.when.action or []) & set(auto.when.action or []):
                pairs.append((auto, rev))
    return pairs


def _raised_limit(rows: list[dict], limit: float, min_reviews: int, approve_rate: float, floor: float,
                  step: float) -> float | None:
    """Walk the limit up in `step`s while the reviews it would automate were approved at `approve_rate`
    (over at least `min_reviews`); stop at the first step whose own approval rate is under `floor`."""
    best, top = None, max((r["amount"] for r in rows), default=limit)
    for k in range(1, int(math.ceil((top - limit) / step)) + 1):
        edge = limit + k * step
        own = [r for r in rows if edge - step < r["amount"] <= edge]
        if len(own) >= 3 and sum(r["decision"] == "approve" for r in own) / len(own) < floor:
            break
        band = [r for r in rows if r["amount"] <= edge]
        if len(band) >= min_reviews and sum(r["decision"] == "approve" for r in band) / len(band) >= approve_rate:
            best = edge
    return best


def suggest(entries: list[dict[str, Any]], policy: Any, min_reviews: int = 30, approve_rate: float = 0.95,
            floor: float = 0.8, step: float = 100.0) -> list[dict[str, Any]]:
    """Suggestions (dicts with kind, rule_id, change, evidence, text); an empty list when the history
    is too thin or too mixed to support any."""
    history = review_history(entries)
    if not history:
        return []
    span = max(r["ts"] for r in history) - min(r["ts"] for r in history)
    weeks = max(span / WEEK, 1 / 7)  # at least a day, so a burst is not extrapolated wildly
    out: list[dict[str, Any]] = []
    raised_rules = set()
    for auto, rev in _limit_pairs(policy):
        limit = auto.when.amount_lte
        rows = [r for r in history if r["rule_id"] == rev.id and r["amount"] is not None and r["amount"] > limit]
        edge = _raised_limit(rows, limit, min_reviews, approve_rate, floor, step)
        if edge is None:
            continue
        s = _stats([r for r in rows if r["amount"] <= edge], weeks)
        raised_rules.add(rev.id)
        action = (rev.when.action or ["action"])[0]
        out.append({
            "kind": "raise_automatic_limit", "rule_id": auto.id, "review_rule_id": rev.id,
            "change": {"rule": auto.id, "field": "when.amount_lte", "from": limit, "to": edge,
                       "also": {"rule": rev.id, "field": "when.amount_gt", "from": limit, "to": edge}},
            "evidence": s,
            "text": (f"{s['approval_rate']:.0%} of {action}s between ${limit:,.0f} and ${edge:,.0f} were approved "
                     f"over {s['reviews']} reviews ({s['rejected']} rejected, {s['edited']} edited), median wait "
                     f"{_hours(s['median_wait_seconds'])}; raising the automatic limit ({auto.id}) to ${edge:,.0f} "
                     f"removes ~{s['per_week']:.0f} reviews a week."),
        })
    for rule in policy.rules:
        rows = [r for r in history if r["rule_id"] == rule.id]
        if rule.effect != "review" or len(rows) < min_reviews or rule.id in raised_rules:
            continue
        s = _stats(rows, weeks)
        reject_rate = s["rejected"] / s["reviews"]
        if s["approval_rate"] >= max(approve_rate, 0.98):
            kind, verdict = "consider_allow", "consider allowing it automatically or narrowing its conditions"
        elif reject_rate >= max(approve_rate, 0.98):
            kind, verdict = "consider_deny", "consider denying automatically with a clear customer message"
        else:
            continue
        out.append({"kind": kind, "rule_id": rule.id, "change": {"rule": rule.id, "field": "effect",
                                                                  "from": "review", "to": kind.split("_")[1]},
                    "evidence": s,
                    "text": (f"rule {rule.id}: {s['approval_rate']:.0%} approved, {reject_rate:.0%} rejected over "
                             f"{s['reviews']} reviews, median wait {_hours(s['median_wait_seconds'])}, "
                             f"~{s['per_week']:.0f} a week; {verdict}.")})
    return out
