"""The evaluation summary as a person reads it: a table of fields, the per-turn figures, and the failures.

Apart from scoring (app/eval/score.py) so the summary JSON can be produced, compared and tested without a console.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def _where(items: list[dict], key: str, limit: int = 12) -> str:
    shown = ", ".join(f"{x['id']}" + (f"#{x['turn']}" if x.get("turn") else "") + f" ({x[key]})"
                      for x in items[:limit])
    return shown + (f", … {len(items) - limit} more" if len(items) > limit else "")


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
    rv, rt, tu = summary["review"], summary["retrieval"], summary["turns"]
    table.add_row("review precision", str(rv["tp"] + rv["fp"]), str(rv["tp"]), _fmt(rv["precision"]))
    table.add_row("review recall", str(rv["tp"] + rv["fn"]), str(rv["tp"]), _fmt(rv["recall"]))
    table.add_row(f"retrieval recall@{rt['k']}", str(rt["n"]), "", _fmt(rt["recall_at_k"]))
    table.add_row("turns fully as expected", str(tu["checked"]), str(tu["correct"]), _fmt(tu["accuracy"]))
    console.print(table)
    un, mi, na, tl = (summary["unneeded_tickets"], summary["missed_escalations"], summary["actions_missing_args"],
                      summary["turn_latency_ms"])
    plain = {"markup": False, "highlight": False, "soft_wrap": True}
    console.print(f"per-turn accuracy: {_fmt(tu['accuracy'])} ({tu['correct']}/{tu['checked']} checked turns, "
                  f"{tu['sent']} sent)  unneeded tickets: {un['count']} (on {un['turns']} turns)  "
                  f"missed escalations: {mi['count']}  actions without required args: {na['count']}  "
                  f"turn latency p50/p95 ms: {tl['p50']}/{tl['p95']}", **plain)
    wr = summary.get("writes") or {}
    if wr.get("expected") or wr.get("unexpected"):
        console.print(f"writes: {wr['carried_out']}/{wr['expected']} expected carried out without a person "
                      f"({_fmt(wr['share_carried_out'])})  missed: {len(wr['missed'])}  "
                      f"unexpected (wrong or double): {len(wr['unexpected'])}", **plain)
        for w in wr["unexpected"][:12]:
            console.print(f"  unexpected write: {w['id']}#{w['turn']} {w['write']}", **plain)
    for label, fig, key in (("unneeded tickets", un, "tickets"), ("missed escalations", mi, "why"),
                            ("actions without required args", na, "missing")):
        if fig["where"]:
            console.print(f"  {label}: {_where(fig['where'], key)}", **plain)
    console.print(f"outcomes: {summary['outcomes']}  errors: {summary['errors']}  "
                  f"latency p50/p95 ms: {summary['latency_ms']['p50']}/{summary['latency_ms']['p95']}  "
                  f"LLM calls: {summary['llm_calls']}  tokens: {summary['tokens']}", soft_wrap=True)
    if summary.get("by_tag"):
        tags = ", ".join(f"{t} {v['passed']}/{v['n']}" for t, v in summary["by_tag"].items())
        console.print(f"by tag (passed/n): {tags}", **plain)
    fails = summary["failures"]
    if fails:
        console.print(f"[bold]failures ({len(fails)}):[/bold]")
        for f in fails[:max_failures]:
            detail = "; ".join(f"{m['field']}: expected {m['expected']!r}, got {m['actual']!r}"
                               for m in f["mismatches"])
            name = f["id"] + (f"#{f['turn']}" if f.get("turn") else "")
            console.print(f"  {name}: {detail}" + (f" (error: {f['error']})" if f.get("error") else ""), **plain)
        if len(fails) > max_failures:
            console.print(f"  … {len(fails) - max_failures} more in the summary JSON")


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"
