"""`GET /metrics` over real HTTP while the service runs with two uvicorn workers (prometheus-client's multi-process
mode): the turn counter matches the messages sent, whichever worker answered each, and the reviews waiting are
read from the database."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.system.test_http_api import REFUND, _auth, _env, _serve

pytestmark = pytest.mark.slow
QUESTIONS = ["How long do card refunds take?", "How do I reset my password?", "What is your return window?",
             "Do you ship to Canada?", "How do I change my email address?", "Can I cancel just one item?"]


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _total(samples: dict, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls))


def test_metrics_count_every_turn_across_workers(data_dir, tmp_path):
    ctx, url = _serve(tmp_path, _env(data_dir), workers=2)
    with ctx, httpx.Client(base_url=url, timeout=120) as c:
        before = _samples(c.get("/metrics").text)
        assert _total(before, "supportflow_turns_total") == 0
        for i, q in enumerate(QUESTIONS):
            sent = c.post("/v1/messages", headers=_auth(), json={"message": q, "message_id": f"q{i}"})
            assert sent.status_code == 200, sent.text
        c.post("/v1/messages", headers=_auth(), json={"message": QUESTIONS[0], "message_id": "q0"})  # a retry
        c.post("/v1/messages", headers=_auth(), json={"message": REFUND, "message_id": "r1"})  # waits for review
        for _ in range(8):  # scrape more than once: each worker answers with every worker's counts
            r = c.get("/metrics")
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
            samples = _samples(r.text)
            assert _total(samples, "supportflow_turns_total") == len(QUESTIONS)  # the retry is the same turn
            assert _total(samples, "supportflow_turns_total", outcome="answered") >= 4
            assert _total(samples, "supportflow_turn_seconds_count") == len(QUESTIONS)
            assert _total(samples, "supportflow_reviews_waiting", queue="billing") == 1
            assert _total(samples, "supportflow_review_oldest_age_seconds", queue="billing") >= 0
        assert _total(samples, "supportflow_thread_lock_wait_seconds_count") >= len(QUESTIONS)
