"""Prometheus metrics for the people who run the service: `GET /metrics` (app/http/api.py), prometheus-client.

Counters and histograms are incremented where the thing happens (a turn recorded, an LLM call, a thread lock waited
for or refused as busy). With several uvicorn workers they are kept in prometheus-client's multi-process mode:
`serve` points `PROMETHEUS_MULTIPROC_DIR` at a fresh folder before the workers start, each worker writes its own
files there, and a scrape of any worker sums them. What is a state rather than an event (reviews waiting per queue,
the oldest one's age, reviews past their SLA) is read from the database at scrape time (`DeskCollector`), so every
worker reports the same figure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)
TURNS = Counter("supportflow_turns", "Finished turns, by outcome and intent.", ["outcome", "intent"])
TURN_SECONDS = Histogram("supportflow_turn_seconds", "Machine time of a turn (review waits excluded).", ["outcome"],
                         buckets=TURN_BUCKETS)
LLM_CALLS = Counter("supportflow_llm_calls", "LLM calls, by agent and model.", ["agent", "model"])
LLM_TOKENS = Counter("supportflow_llm_tokens", "LLM tokens, by model and direction.", ["model", "direction"])
LLM_COST = Counter("supportflow_llm_cost_usd", "LLM cost in USD from the `model_prices` setting.", ["model"])
LOCK_WAIT = Histogram("supportflow_thread_lock_wait_seconds", "Time a message waited for its thread's lock.",
                      buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30))
BUSY = Counter("supportflow_thread_busy_refusals", "Messages refused because their thread stayed busy.")


def usd(model: str | None, input_tokens: int, output_tokens: int, prices: dict[str, tuple[float, float]]) -> float:
    """What a model's tokens cost, from the configured price table (USD per million tokens; unlisted: 0)."""
    per_in, per_out = prices.get(model or "unknown", (0.0, 0.0))
    return ((input_tokens or 0) * per_in + (output_tokens or 0) * per_out) / 1_000_000


def record_turn(intent: str | None, outcome: str | None, machine_ms: float | None, calls: list[dict],
                prices: dict[str, tuple[float, float]]) -> None:
    TURNS.labels(outcome or "none", intent or "none").inc()
    if machine_ms is not None:
        TURN_SECONDS.labels(outcome or "none").observe(machine_ms / 1000)
    for call in calls:
        model = call.get("model") or "unknown"
        LLM_CALLS.labels(call.get("agent") or "unknown", model).inc()
        LLM_TOKENS.labels(model, "input").inc(call.get("input_tokens") or 0)
        LLM_TOKENS.labels(model, "output").inc(call.get("output_tokens") or 0)
        LLM_COST.labels(model).inc(usd(model, call.get("input_tokens") or 0, call.get("output_tokens") or 0, prices))


class DeskCollector:
    """Reviews waiting, by queue: how many, the oldest one's age, how many are past their SLA; read at scrape."""

    def __init__(self, pending: Callable[[], Iterable[dict]]):
        self.pending = pending  # inbox items (app/review/inbox.py): {"queue", "age_seconds", "overdue"}

    def collect(self):
        waiting = GaugeMetricFamily("supportflow_reviews_waiting", "Reviews waiting for a decision.", labels=["queue"])
        oldest = GaugeMetricFamily("supportflow_review_oldest_age_seconds", "Age of the oldest waiting review.",
                                   labels=["queue"])
        late = GaugeMetricFamily("supportflow_reviews_past_sla", "Waiting reviews past their queue's SLA.",
                                 labels=["queue"])
        by_queue: dict[str, list[dict]] = {}
        for item in self.pending():
            by_queue.setdefault(item.get("queue") or "none", []).append(item)
        for queue, items in sorted(by_queue.items()):
            waiting.add_metric([queue], len(items))
            oldest.add_metric([queue], max(float(i["age_seconds"]) for i in items))
            late.add_metric([queue], sum(bool(i.get("overdue")) for i in items))
        yield from (waiting, oldest, late)


def exposition(pending: Callable[[], Iterable[dict]]) -> tuple[bytes, str]:
    """(body, content type) of a scrape: every worker's counters (multi-process mode) or this process's own, and
    the desk's state."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_Process())
    registry.register(DeskCollector(pending))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Process:
    """This process's own metrics (one worker, tests), as one collector of the scrape's registry."""

    def collect(self):
        yield from REGISTRY.collect()
