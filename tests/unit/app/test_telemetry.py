"""Prometheus metrics (app/telemetry.py): cost from the price table, the desk's state at scrape time, and a Grafana
dashboard that charts only metrics the service exports. Over HTTP with workers: tests/system/test_http_metrics.py."""

from __future__ import annotations

import json
import re

from prometheus_client.parser import text_string_to_metric_families

from app import telemetry
from tests.helpers import ROOT


def _value(text: str, name: str, **labels: str) -> float:
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
               if s.name == name and set(labels.items()) <= set(s.labels.items()))


def test_a_turns_llm_cost_comes_from_the_price_table():
    before = _value(telemetry.exposition(list)[0].decode(), "supportflow_llm_cost_usd_total", model="m-priced")
    telemetry.record_turn("refund_request", "answered", 120.0,
                          [{"agent": "research", "model": "m-priced", "input_tokens": 2_000, "output_tokens": 500}],
                          {"m-priced": (1.0, 4.0)})
    after = _value(telemetry.exposition(list)[0].decode(), "supportflow_llm_cost_usd_total", model="m-priced")
    assert round(after - before, 6) == round((2_000 * 1.0 + 500 * 4.0) / 1e6, 6)


def test_reviews_waiting_are_read_per_queue_at_scrape_time():
    items = [{"queue": "billing", "age_seconds": 30.0, "overdue": False},
             {"queue": "billing", "age_seconds": 9_000.0, "overdue": True}, {"queue": "fraud", "age_seconds": 5.0}]
    text = telemetry.exposition(lambda: items)[0].decode()
    assert _value(text, "supportflow_reviews_waiting", queue="billing") == 2
    assert _value(text, "supportflow_review_oldest_age_seconds", queue="billing") == 9_000
    assert _value(text, "supportflow_reviews_past_sla", queue="billing") == 1
    assert _value(text, "supportflow_reviews_waiting", queue="fraud") == 1


def test_the_grafana_dashboard_charts_only_exported_metrics():
    dashboard = json.loads((ROOT / "docs" / "grafana" / "supportflow.json").read_text())
    used = {re.sub(r"_(bucket|count|sum)$", "", m)
            for p in dashboard["panels"] for t in p["targets"] for m in re.findall(r"supportflow_\w+", t["expr"])}
    telemetry.record_turn("x", "answered", 1.0, [{"agent": "a", "model": "m", "input_tokens": 1, "output_tokens": 1}],
                          {})  # labelled series appear once used
    text = telemetry.exposition(lambda: [{"queue": "q", "age_seconds": 1.0}])[0].decode()
    exported = {s.name.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum")
                for f in text_string_to_metric_families(text) for s in f.samples}
    assert used and used <= exported, used - exported


def test_the_operations_page_reads_long_waits_in_minutes():
    from app.ui.dashboard import _ms

    assert (_ms(850), _ms(123_129), _ms(None)) == ("850 ms", "2m 03s", "—")  # was "123,129 ms"


def test_the_operations_cost_is_the_price_table_times_the_recorded_tokens(tmp_path):
    from types import SimpleNamespace

    from app.store.metrics import Metrics
    from app.ui import queries

    metrics = Metrics(tmp_path / "metrics.db", prices={"small": (1.0, 4.0)})
    calls = [{"id": "c1", "agent": "triage", "model": "small", "input_tokens": 500_000, "output_tokens": 100_000},
             {"id": "c2", "agent": "research", "model": "big", "input_tokens": 1000, "output_tokens": 10}]
    metrics.turn("th-1", 1, "refund_request", "ticket_created", calls, 12.0)
    usage = {u["model"]: u for u in queries.llm_cost(SimpleNamespace(metrics=metrics), 0.0)}
    assert usage["small"]["usd"] == 0.5 + 0.4 and usage["small"]["calls"] == 1
    assert usage["big"]["usd"] == 0.0  # no price configured: 0, and the page says so
