"""`stats`: per-agent latency, failures, outcomes, LLM usage and agent × intent reliability, as JSON."""

from __future__ import annotations

import time

import typer

from app.cli.common import desk, print_json, services
from app.ticket_ops import response_summary


def stats(hours: float = typer.Option(0, help="Only the last N hours (0 = all).")) -> None:
    """Per-agent latency and failure rates, outcomes, LLM calls and tokens per turn, from recorded runs."""
    from app.reliability.book import reliability_report  # deferred: loads LangGraph (~0.4 s); keeps `--help` fast

    svc = services()
    summary = svc.metrics.summary(since=time.time() - hours * 3600 if hours else 0.0)
    summary["pending_reviews"] = len(desk().pending_reviews())
    summary["kill_switch"] = svc.controls.kill_switch().get("on", False)
    summary["reliability"] = {"threshold": svc.settings.reliability_threshold, "scores": reliability_report(svc)}
    summary["tickets"] = response_summary(svc.tickets.response_times())  # time to first response, to resolution
    print_json(summary)
