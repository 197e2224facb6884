"""`stats`: turn latency (machine time), review wait and model warm-up apart, per-agent latency and failures,
outcomes, LLM usage, ticket response times and agent × intent reliability. Text by default, `--json` for all of it."""

from __future__ import annotations

import time

import typer

from app.cli.common import desk, print_json, services
from app.ticket_ops import response_summary

RECENT_TICKETS = 20  # per-ticket response times in the text view; --json has them all


def stats(hours: float = typer.Option(0, help="Only the last N hours (0 = all)."),
          as_json: bool = typer.Option(False, "--json", help="Print everything as JSON instead of a text summary.")
          ) -> None:
    """Turn latency (machine time; review wait and model warm-up shown apart), per-agent latency and failure
    rates, outcomes, LLM calls and tokens per turn, ticket response times, from recorded runs."""
    from app.reliability.book import reliability_report  # deferred: loads LangGraph (~0.4 s); keeps `--help` fast

    svc = services()
    since = time.time() - hours * 3600 if hours else 0.0
    summary = svc.metrics.summary(since=since)
    summary["pending_reviews"] = desk().reviews.count()
    summary["kill_switch"] = svc.controls.kill_switch().get("on", False)
    summary["reliability"] = {"threshold": svc.settings.reliability_threshold, "scores": reliability_report(svc)}
    per_ticket = svc.tickets.response_times()  # time to first response and to resolution, per ticket
    summary["tickets"] = {**response_summary(per_ticket), "per_ticket": per_ticket}
    if as_json:
        print_json(summary)
        return
    _text(summary)


def _figures(s: dict, unit: str = "ms") -> str:
    if not s["n"]:
        return "none recorded"
    return f"p50 {s['p50']:,.1f} {unit} · p95 {s['p95']:,.1f} {unit} · max {s['max']:,.1f} {unit} (n={s['n']})"


def _secs(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f} s"


def _text(s: dict) -> None:
    out = typer.echo
    out(f"turns: {s['turns']}  " + ", ".join(f"{k} {v}" for k, v in sorted(s["outcomes"].items())))
    out("resolved without a person: " + " · ".join(
        f"{kind}s {'-' if f['share'] is None else format(f['share'], '.0%')} ({f['by_desk']}/{f['turns']})"
        for kind, f in s["without_person"].items()))
    out(f"turn latency (machine time): {_figures(s['turn_latency_ms'])}")
    out(f"turn wall time:              {_figures(s['turn_wall_ms'])}")
    out(f"review wait:                 {_figures(s['review_wait_ms'])}")
    warm = s["warmup_ms"]
    out("model warm-up: " + (", ".join(f"{k} {v['max']:,.0f} ms (×{v['n']})" for k, v in warm.items()) or "none"))
    out(f"LLM calls per turn: {s['llm_calls_per_turn']} · prompt tokens per turn: {s['prompt_tokens_per_turn']}")
    out(f"pending reviews: {s['pending_reviews']} · kill switch: {'on' if s['kill_switch'] else 'off'}")
    if s["agents"]:
        out("nodes:")
        for node, a in s["agents"].items():
            out(f"  {node:<16} runs {a['runs']:>5}  p50 {a['p50_ms']:>9,.1f} ms  p95 {a['p95_ms']:>9,.1f} ms  "
                f"failures {a['failure_rate']:.1%}")
    t = s["tickets"]
    first, resolved = t["first_response_s"], t["resolution_s"]
    out(f"tickets: {t['tickets']} · time to first response p50 {_secs(first['p50'])}, max {_secs(first['max'])} "
        f"(n={first['n']}) · time to resolution p50 {_secs(resolved['p50'])}, max {_secs(resolved['max'])} "
        f"(n={resolved['n']})")
    for r in t["per_ticket"][-RECENT_TICKETS:]:
        out(f"  {r['id']}  {r['status']:<16} first response {_secs(r['first_response_s']):>8}  "
            f"resolution {_secs(r['resolution_s']):>8}")
    low = [r for r in s["reliability"]["scores"] if r.get("below_threshold")]
    if low:
        out("below the reliability threshold: " + ", ".join(f"{r['agent']}×{r['intent']}" for r in low))
