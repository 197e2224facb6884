"""Score evaluation results against scenario expectations (the summary is printed by app/eval/report.py).

Comparison rules per field (documented in the README section):
  intent, category, outcome, review, grounded, language — equal, or one of a list;
  route, policy_rules — the list exactly (or any of a list of lists);
  retrieved, citations, route_contains — every expected item present;
  ticket_id, error — true/false for present/absent (a string for error: contained in the message);
  numbers — equal, or a {"min": .., "max": ..} range.
Per-turn only:
  ticket — a ticket was opened on the turn (true/false); review — a review was pending or decided after it;
  needs_info — true/false: the outcome was `needs_info`; a list: that, and the desk asked for exactly those
    details (the slots the desk reports, else the details its reply names);
  answer_contains / answer_excludes — text in the reply, case- and spacing-insensitive (an inner list: any of);
  policy_rule — every listed rule among the turn's decisions;
  args — some action of the turn has these arguments (`true`: present with any value; order ids compare
    without case, '#' or the BW- prefix; numbers numerically); a list: each matched by some action.
An old-form scenario counts as one checked turn, judged on the conversation's result.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from typing import Any

from app.eval.data import LIST_EXACT, LIST_SUBSET, NUMERIC, PRESENCE, AnyScenario
from app.eval.figures import actions_missing_args, missed_escalation, tickets_of, unneeded_tickets
from app.store.metrics import percentile

# How a reply names a detail it asks for, when the desk does not report the missing slots itself.
SLOT_WORDS = {
    "order_id": ("order number", "order id", "order #", "order no", "bw-", "numéro de commande",
                 "bestellnummer", "número de pedido"),
    "amount": ("amount", "how much", "montant", "betrag", "importe"),
    "field": ("which detail", "what would you like to change", "which information", "what do you want to change"),
    "value": ("new value", "new email", "new address", "new phone", "new number", "new name"),
}


def matches(field: str, expected: Any, actual: Any) -> bool:
    if field in LIST_EXACT:
        options = expected if expected and all(isinstance(e, list) for e in expected) else [expected]
        return any(list(actual or []) == list(o) for o in options)
    if field in LIST_SUBSET:
        want = expected if isinstance(expected, list) else [expected]
        return set(want) <= set(actual or [])
    if field in PRESENCE:
        if isinstance(expected, bool):
            return bool(actual) == expected
        return actual is not None and str(expected).lower() in str(actual).lower()
    if field in NUMERIC and isinstance(expected, dict):
        return actual is not None and expected.get("min", float("-inf")) <= actual <= expected.get("max", float("inf"))
    if isinstance(expected, list):
        return actual in expected
    return actual == expected


def _norm(text: Any) -> str:
    text = unicodedata.normalize("NFKC", str(text or "")).replace("\u2019", "'").replace("\u2018", "'")
    return re.sub(r"\s+", " ", text).casefold().strip()


def _as_list(v: Any) -> list:
    return list(v) if isinstance(v, list) else [v]


def asked_slots(obs: dict) -> list[str]:
    if obs.get("missing") is not None:
        return list(obs["missing"])
    text = _norm(obs.get("answer"))
    return [slot for slot, words in SLOT_WORDS.items() if any(w in text for w in words)]


def _order(v: Any) -> str:
    return re.sub(r"[^A-Z0-9]", "", str(v).upper()).removeprefix("BW")


def same_arg(name: str, want: Any, got: Any) -> bool:
    if want is True:
        return got not in (None, "", [], {})
    if got is None:
        return want is None
    if "order" in name:
        return _order(want) == _order(got)
    if isinstance(want, int | float) and not isinstance(want, bool):
        try:
            return abs(float(got) - float(want)) < 0.005
        except (TypeError, ValueError):
            return False
    return _norm(want) == _norm(got)


def match_writes(want: list[dict], got: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """(expected writes carried out, expected ones not carried out, writes carried out that nobody expected):
    operation, order (as same_arg reads order ids), amount (to the cent) and any other argument the expectation
    names (a contact update's field and value). A write the system refused, or one only recorded (dry run,
    failed), was not carried out."""
    left = [g for g in got if g.get("status", "executed") == "executed"]
    done, missed = [], []
    for w in want:
        hit = next((g for g in left if g.get("operation") == w.get("operation")
                    and ("amount" not in w or (g.get("amount") is not None
                                               and abs(float(g["amount"]) - float(w["amount"])) < 0.005))
                    and all(same_arg(k, v, g.get(k)) for k, v in w.items() if k not in ("operation", "amount"))),
                   None)
        if hit is None:
            missed.append(w)
        else:
            done.append(w)
            left.remove(hit)
    return done, missed, left


def same_writes(want: list[dict], got: list[dict]) -> bool:
    _, missed, extra = match_writes(want, got)
    return not missed and not extra


def turn_check(field: str, want: Any, obs: dict) -> tuple[bool, Any]:
    """(as expected?, what the turn did) for one per-turn expectation."""
    if field == "ticket":
        got = tickets_of(obs)
        return bool(got) == want, got
    if field == "review":
        return bool(obs.get("review")) == want, bool(obs.get("review"))
    if field == "needs_info":
        asked = obs.get("outcome") == "needs_info"
        if isinstance(want, bool):
            return asked == want, obs.get("outcome")
        slots = asked_slots(obs) if asked else obs.get("outcome")
        return asked and set(slots) == set(want), slots
    if field == "route_contains":
        return set(_as_list(want)) <= set(obs.get("route") or []), obs.get("route")
    if field in ("answer_contains", "answer_excludes"):
        text = _norm(obs.get("answer"))
        found = [any(_norm(w) in text for w in _as_list(item)) for item in _as_list(want)]
        ok = all(found) if field == "answer_contains" else not any(found)
        return ok, (obs.get("answer") or "")[:240]
    if field == "language":
        got = obs.get("language")
        primary = str(got).split("-")[0].split("_")[0].casefold() if got else None
        return primary in [str(w).casefold() for w in _as_list(want)], got
    if field == "policy_rule":
        rules = {*(obs.get("policy_rules") or []), obs.get("policy_rule"),
                 *(a.get("rule") for a in obs.get("actions") or [])} - {None}
        return set(_as_list(want)) <= rules, sorted(rules)
    if field == "executed":
        got = [e for e in obs.get("executed") or [] if e.get("status") == "executed"]
        return same_writes(want, got), [{k: e[k] for k in ("operation", "order_id", "amount", "field", "value")
                                         if e.get(k) is not None} for e in got]
    if field == "args":
        actions = obs.get("actions") or []
        ok = all(any(all(same_arg(k, v, (a.get("args") or {}).get(k)) for k, v in one.items()) for a in actions)
                 for one in _as_list(want))
        return ok, [a.get("args") for a in actions]
    return matches(field, want, obs.get(field)), obs.get(field)


def _units(results: list[dict], by_id: dict[str, AnyScenario]) -> list[dict]:
    """Every checked turn: per-turn expectations against trace steps, old-form ones against the result."""
    units = []
    for r in results:
        sc = by_id.get(r["id"])
        if sc is None:
            continue
        if not sc.per_turn:
            if sc.expect:
                units.append({"id": r["id"], "turn": None, "expect": sc.expect, "obs": r, "per_turn": False})
            continue
        steps = {s.get("turn"): s for s in r.get("trace") or []}
        for i, turn in enumerate(sc.turns, 1):
            if turn.checks:
                obs = steps.get(i) or {"outcome": None, "error": "turn not sent"}
                units.append({"id": r["id"], "turn": i, "expect": turn.checks, "obs": obs, "per_turn": True})
    return units


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def score_summary(results: list[dict], scenarios: list[AnyScenario]) -> dict:
    by_id = {s.id: s for s in scenarios}
    fields: dict[str, dict[str, int]] = {}
    failures: list[dict] = []
    tp = fp = fn = 0
    recalls: list[float] = []
    unneeded: list[dict] = []
    missed: list[dict] = []
    writes: dict[str, Any] = {"expected": 0, "carried_out": 0, "missed": [], "unexpected": []}
    k = max((len(r.get("retrieved") or []) for r in results), default=0)
    units = _units(results, by_id)
    for u in units:
        expect, obs, wrong = u["expect"], u["obs"], []
        for field, want in expect.items():
            ok, actual = turn_check(field, want, obs) if u["per_turn"] else (matches(field, want, obs.get(field)),
                                                                              obs.get(field))
            stat = fields.setdefault(field, {"n": 0, "correct": 0})
            stat["n"] += 1
            stat["correct"] += ok
            if not ok:
                wrong.append({"field": field, "expected": want, "actual": actual})
        u["ok"] = not wrong
        if wrong:
            failures.append({"id": u["id"], **({"turn": u["turn"]} if u["per_turn"] else {}),
                             "mismatches": wrong, "error": obs.get("error")})
        if "review" in expect:
            want_review, got = bool(expect["review"]), bool(obs.get("review"))
            tp += want_review and got
            fp += (not want_review) and got
            fn += want_review and not got
        if expect.get("retrieved"):
            want = set(_as_list(expect["retrieved"]))
            recalls.append(len(want & set(obs.get("retrieved") or [])) / len(want))
        if extra := unneeded_tickets(expect, obs):
            unneeded.append({"id": u["id"], "turn": u["turn"], "tickets": extra})
        if why := missed_escalation(expect, obs):
            missed.append({"id": u["id"], "turn": u["turn"], "why": why})
        if u["per_turn"] and "executed" in expect:
            done, undone, extra = match_writes(expect["executed"], obs.get("executed") or [])
            writes["expected"] += len(done) + len(undone)
            writes["carried_out"] += len(done)
            writes["missed"] += [{"id": u["id"], "turn": u["turn"], "write": w} for w in undone]
            writes["unexpected"] += [{"id": u["id"], "turn": u["turn"], "write": w} for w in extra]
    failed_ids = {f["id"] for f in failures}
    scored_ids = list(dict.fromkeys(u["id"] for u in units))
    by_tag: dict[str, dict[str, int]] = {}
    for sid in scored_ids:
        for tag in by_id[sid].tags:
            t = by_tag.setdefault(tag, {"n": 0, "passed": 0})
            t["n"] += 1
            t["passed"] += sid not in failed_ids
    outcomes: dict[str, int] = {}
    for r in results:
        outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
    lat = sorted(r["latency_ms"] for r in results)
    turn_lat = sorted(s["latency_ms"] for r in results for s in r.get("trace") or []
                      if s.get("latency_ms") is not None)
    no_args = [m for r in results for m in actions_missing_args(r)]
    scored, passed, right = len(scored_ids), len(set(scored_ids) - failed_ids), sum(u["ok"] for u in units)
    return {
        "scenarios": len(results), "with_expectations": scored,
        "passed": passed, "pass_rate": _ratio(passed, scored),
        "turns": {"sent": sum(len(r.get("trace") or []) for r in results), "checked": len(units),
                  "correct": right, "accuracy": _ratio(right, len(units))},
        "unneeded_tickets": {"count": sum(len(x["tickets"]) for x in unneeded), "turns": len(unneeded),
                             "where": unneeded},
        "missed_escalations": {"count": len(missed), "where": missed},
        "actions_missing_args": {"count": len(no_args), "where": no_args},
        # Writes in the company's system against the `executed` expectations: the share carried out without a
        # person, and every write nobody asked for (a wrong order, amount or customer, or a second one).
        "writes": {**writes, "share_carried_out": _ratio(writes["carried_out"], writes["expected"])},
        "fields": {f: {**s, "accuracy": _ratio(s["correct"], s["n"])} for f, s in sorted(fields.items())},
        "review": {"tp": int(tp), "fp": int(fp), "fn": int(fn),
                   "precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn)},
        "retrieval": {"k": k, "n": len(recalls),
                      "recall_at_k": round(statistics.fmean(recalls), 4) if recalls else None},
        "outcomes": dict(sorted(outcomes.items())),
        "by_tag": {t: {**v, "pass_rate": _ratio(v["passed"], v["n"])} for t, v in sorted(by_tag.items())},
        "errors": sum(1 for r in results if r.get("error")),
        "latency_ms": {"p50": percentile(lat, 0.5) if lat else None, "p95": percentile(lat, 0.95) if lat else None},
        "turn_latency_ms": {"n": len(turn_lat), "p50": percentile(turn_lat, 0.5) if turn_lat else None,
                            "p95": percentile(turn_lat, 0.95) if turn_lat else None},
        "llm_calls": sum(r.get("llm_calls", 0) for r in results),
        "tokens": sum(r.get("prompt_tokens", 0) + r.get("completion_tokens", 0) for r in results),
        "failures": failures,
    }
