"""Score evaluation results against scenario expectations, and print the summary as a table.

Comparison rules per field (documented in the README section):
  intent, category, outcome, review, grounded — equal, or one of a list;
  route, policy_rules — the list exactly (or any of a list of lists);
  retrieved, citations — every expected document id present;
  ticket_id, error — true/false for present/absent (a string for error: contained in the message);
  numbers — equal, or a {"min": .., "max": ..} range.
"""

from __future__ import annotations

import statistics
from typing import Any

from rich.console import Console
from rich.table import Table

from app.eval.data import LIST_EXACT, LIST_SUBSET, NUMERIC, PRESENCE, Scenario
from app.store.metrics import percentile


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


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 4) if den else None


def summarize(results: list[dict], scenarios: list[Scenario]) -> dict:
    by_id = {s.id: s for s in scenarios}
    fields: dict[str, dict[str, int]] = {}
    failures: list[dict] = []
    tp = fp = fn = 0
    recalls: list[float] = []
    k = max((len(r.get("retrieved") or []) for r in results), default=0)
    scored = 0
    for r in results:
        expect = by_id[r["id"]].expect if r["id"] in by_id else None
        if not expect:
            continue
        scored += 1
        wrong = []
        for field, want in expect.items():
            ok = matches(field, want, r.get(field))
            stat = fields.setdefault(field, {"n": 0, "correct": 0})
            stat["n"] += 1
            stat["correct"] += ok
            if not ok:
                wrong.append({"field": field, "expected": want, "actual": r.get(field)})
        if wrong:
            failures.append({"id": r["id"], "mismatches": wrong, "error": r.get("error")})
        if "review" in expect:
            want_review = bool(expect["review"])
            tp += want_review and r["review"]
            fp += (not want_review) and r["review"]
            fn += want_review and not r["review"]
        if expect.get("retrieved"):
            want = set(expect["retrieved"] if isinstance(expect["retrieved"], list) else [expect["retrieved"]])
            recalls.append(len(want & set(r.get("retrieved") or [])) / len(want))
    by_tag: dict[str, dict[str, int]] = {}
    failed_ids = {f["id"] for f in failures}
    for r in results:
        sc = by_id.get(r["id"])
        for tag in (sc.tags if sc and sc.expect else []):
            t = by_tag.setdefault(tag, {"n": 0, "passed": 0})
            t["n"] += 1
            t["passed"] += r["id"] not in failed_ids
    outcomes: dict[str, int] = {}
    for r in results:
        outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
    lat = sorted(r["latency_ms"] for r in results)
    return {
        "scenarios": len(results), "with_expectations": scored,
        "passed": scored - len(failures), "pass_rate": _ratio(scored - len(failures), scored),
        "fields": {f: {**s, "accuracy": _ratio(s["correct"], s["n"])} for f, s in sorted(fields.items())},
        "review": {"tp": int(tp), "fp": int(fp), "fn": int(fn),
                   "precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn)},
        "retrieval": {"k": k, "n": len(recalls),
                      "recall_at_k": round(statistics.fmean(recalls), 4) if recalls else None},
        "outcomes": dict(sorted(outcomes.items())),
        "by_tag": {t: {**v, "pass_rate": _ratio(v["passed"], v["n"])} for t, v in sorted(by_tag.items())},
        "errors": sum(1 for r in results if r.get("error")),
        "latency_ms": {"p50": percentile(lat, 0.5) if lat else None, "p95": percentile(lat, 0.95) if lat else None},
        "llm_calls": sum(r.get("llm_calls", 0) for r in results),
        "tokens": sum(r.get("prompt_tokens", 0) + r.get("completion_tokens", 0) for r in results),
        "failures": failures,
    }


def render(summary: dict, console=None, max_failures: int = 40) -> None:
    console = console or Console()
    table = Table(title=f"Evaluation: {summary['scenarios']} scenarios, "
                        f"{summary['passed']}/{summary['with_expectations']} fully as expected")
    table.add_column("field")
    table.add_column("checked", justify="right")
    table.add_column("correct", justify="right")
    table.add_column("accuracy", justify="right")
    for field, s in summary["fields"].items():
        table.add_row(field, str(s["n"]), str(s["correct"]), _fmt(s["accuracy"]))
    rv, rt = summary["review"], summary["retrieval"]
    table.add_row("review precision", str(rv["tp"] + rv["fp"]), str(rv["tp"]), _fmt(rv["precision"]))
    table.add_row("review recall", str(rv["tp"] + rv["fn"]), str(rv["tp"]), _fmt(rv["recall"]))
    table.add_row(f"retrieval recall@{rt['k']}", str(rt["n"]), "", _fmt(rt["recall_at_k"]))
    console.print(table)
    console.print(f"outcomes: {summary['outcomes']}  errors: {summary['errors']}  "
                  f"latency p50/p95 ms: {summary['latency_ms']['p50']}/{summary['latency_ms']['p95']}  "
                  f"LLM calls: {summary['llm_calls']}  tokens: {summary['tokens']}", soft_wrap=True)
    if summary.get("by_tag"):
        tags = ", ".join(f"{t} {v['passed']}/{v['n']}" for t, v in summary["by_tag"].items())
        console.print(f"by tag (passed/n): {tags}", soft_wrap=True, markup=False, highlight=False)
    fails = summary["failures"]
    if fails:
        console.print(f"[bold]failures ({len(fails)}):[/bold]")
        for f in fails[:max_failures]:
            detail = "; ".join(f"{m['field']}: expected {m['expected']!r}, got {m['actual']!r}"
                               for m in f["mismatches"])
            console.print(f"  {f['id']}: {detail}" + (f" (error: {f['error']})" if f.get("error") else ""),
                          markup=False, highlight=False, soft_wrap=True)
        if len(fails) > max_failures:
            console.print(f"  … {len(fails) - max_failures} more in the summary JSON")


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"
