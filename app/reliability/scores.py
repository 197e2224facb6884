"""Agent reliability per agent × intent, from what happened to earlier conversations.

Failure signals, read back from the audit trail and the run metrics:
  * grounding failure — research answered from the knowledge base but the check found unsupported claims;
  * reviewer overturn — a human rejected or edited the action compliance proposed;
  * error — a node of the agent raised;
  * re-contact — the same customer (or thread) came back on the same intent within a window after an
    automatic answer (blamed on research) or an automatic approval (blamed on compliance).
Every turn an agent took part in is a trial. The score is the mean of a Beta posterior whose prior is
"reliable" (mean 0.9, worth 10 observations by default), with each observation weighted by
0.5 ** (age / half-life), so one bad day fades and a new intent is trusted until evidence says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from app.store.metrics import AGENT_OF_NODE

SPECIALISTS = ("research", "compliance", "ticketing")


@dataclass
class TurnRecord:
    thread_id: str
    turn: int
    ts: float
    intent: str | None = None
    kind: str | None = None
    agents: set[str] = field(default_factory=set)
    errors: set[str] = field(default_factory=set)
    grounding_failure: bool = False
    overturned: bool = False
    reviewed: bool = False
    auto_approved: bool = False
    outcome: str | None = None
    customer: str | None = None


@dataclass
class Observation:
    agent: str
    intent: str
    ts: float
    ok: bool
    reason: str = "ok"


def observations(turns: list[TurnRecord], recontact_s: float) -> list[Observation]:
    """One observation per agent per turn; failed if any signal is attributed to that agent."""
    blame: dict[tuple[str, int], dict[str, str]] = {}
    for t in turns:
        b = blame.setdefault((t.thread_id, t.turn), {})
        for agent in t.errors:
            b[agent] = "error"
        if t.grounding_failure:
            b.setdefault("research", "grounding_failure")
        if t.overturned:
            b.setdefault("compliance", "overturn")
    for earlier, agent in recontacts(turns, recontact_s):
        blame[(earlier.thread_id, earlier.turn)].setdefault(agent, "recontact")
    out = []
    for t in turns:
        b = blame[(t.thread_id, t.turn)]
        for agent in sorted(t.agents | set(b)):
            out.append(Observation(agent, t.intent or "unknown", t.ts, agent not in b, b.get(agent, "ok")))
    return out


def recontacts(turns: list[TurnRecord], window_s: float) -> list[tuple[TurnRecord, str]]:
    """(earlier turn, blamed agent) when its customer/thread came back on the same intent in the window."""
    by_who: dict[str, list[TurnRecord]] = {}
    for t in turns:
        by_who.setdefault(t.customer or f"thread:{t.thread_id}", []).append(t)
    found = []
    for seq in by_who.values():
        seq.sort(key=lambda t: (t.ts, t.turn))
        for i, a in enumerate(seq):
            if a.intent is None:
                continue
            if a.outcome == "answered" and "research" in a.agents:
                agent = "research"
            elif a.auto_approved:
                agent = "compliance"
            else:
                continue
            if any(b.intent == a.intent and 0 < b.ts - a.ts <= window_s for b in seq[i + 1:]):
                found.append((a, agent))
    return found


@dataclass
class Score:
    agent: str
    intent: str
    score: float
    weight: float
    trials: int
    failures: dict[str, int]


def scores(obs: Iterable[Observation], now: float, prior_mean: float = 0.9, prior_strength: float = 10.0,
           half_life_s: float = 7 * 86400, window_s: float = 30 * 86400) -> dict[tuple[str, str], Score]:
    acc: dict[tuple[str, str], list] = {}
    for o in obs:
        age = now - o.ts
        if age > window_s:
            continue
        w = 0.5 ** (max(age, 0.0) / half_life_s) if half_life_s > 0 else 1.0
        a = acc.setdefault((o.agent, o.intent), [0.0, 0.0, 0, {}])
        a[0] += w * o.ok
        a[1] += w
        a[2] += 1
        if not o.ok:
            a[3][o.reason] = a[3].get(o.reason, 0) + 1
    alpha, beta = prior_mean * prior_strength, (1 - prior_mean) * prior_strength
    return {k: Score(k[0], k[1], round((alpha + s) / (alpha + beta + n), 4), round(n, 3), trials, fails)
            for k, (s, n, trials, fails) in acc.items()}


def collect(audit_entries: list[dict], node_errors: list[dict], ticket_customer=lambda ticket_id: None,
            exclude_prefix: str = "", since: float = 0.0) -> list[TurnRecord]:
    """Rebuild per-turn records from audit entries (keys are `thread:turn:event:suffix`) and node errors."""
    turns: dict[tuple[str, int], TurnRecord] = {}

    def rec(thread: str, turn: int, ts: float) -> TurnRecord | None:
        if exclude_prefix and thread.startswith(exclude_prefix):
            return None
        r = turns.setdefault((thread, turn), TurnRecord(thread, turn, ts))
        r.ts = min(r.ts, ts)
        return r

    for e in audit_entries:
        if e["ts"] < since or not e["key"].startswith(e["thread_id"] + ":"):
            continue
        head = e["key"][len(e["thread_id"]) + 1:].split(":", 1)[0]
        if not head.isdigit() or (r := rec(e["thread_id"], int(head), e["ts"])) is None:
            continue
        ev, evidence = e["event"], e.get("evidence") or {}
        if ev == "triage":
            r.intent, r.kind = evidence.get("intent"), evidence.get("kind")
            r.agents.add("triage")
        elif ev == "route" and e["key"].rsplit(":", 1)[-1] in SPECIALISTS:
            r.agents.add(e["key"].rsplit(":", 1)[-1])
        elif ev == "answer":
            r.grounding_failure = bool(evidence.get("unsupported"))
            r.outcome = r.outcome or ("answered" if e["reason"] == "grounded" else None)
        elif ev == "policy_decision":
            r.reviewed = r.reviewed or "→ pending" in e["reason"]
            r.auto_approved = "allow → approved" in e["reason"]
            if "→ pending" in e["reason"] or "→ denied" in e["reason"]:
                r.outcome = "escalated_pending_review" if "→ pending" in e["reason"] else "refused"
        elif ev == "review_decision":
            decision = ((evidence.get("review") or {}).get("decision"))
            r.overturned = r.overturned or decision in ("reject", "edit")
            r.outcome = "refused" if decision == "reject" else r.outcome
        elif ev == "ticket":
            r.outcome = "ticket_created"
            r.customer = r.customer or ticket_customer(evidence.get("id"))
    for err in node_errors:
        if err["ts"] >= since and (r := rec(err["thread_id"], int(err["turn"]), err["ts"])) is not None:
            r.errors.add(AGENT_OF_NODE.get(err["node"], "supervisor"))
    return sorted(turns.values(), key=lambda t: (t.ts, t.thread_id, t.turn))
