"""The retrieval benchmarks compute what they claim on a known collection."""

from __future__ import annotations

import json

import pytest

from app.bench.retrieval import load_queries, retrieval, retrieval_scale
from tests.helpers import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "retrieval_queries.jsonl"


def test_bench_retrieval_reports_recall_mrr_latency(services, tmp_path):
    qfile = tmp_path / "q.jsonl"
    qfile.write_text("\n".join(json.dumps(r) for r in [
        {"query": "How do I reset my password?", "relevant": ["password-reset.md"], "split": "dev"},
        {"query": "How do I reset my password?", "relevant": ["no-such-doc.md"], "split": "validation"},
    ]))
    dev = retrieval(services, None, qfile, 5, split="dev")
    assert (dev["n"], dev["recall@5"], dev["mrr"]) == (1, 1.0, 1.0) and dev["latency_ms_p95"] > 0
    val = retrieval(services, None, qfile, 5, split="validation")
    assert (val["n"], val["recall@5"], val["mrr"]) == (1, 0.0, 0.0)


def test_bad_query_line_is_named(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "ok", "relevant": []}\n{"query": 3}\n')
    with pytest.raises(ValueError, match="bad.jsonl:2"):
        load_queries(bad)


def test_scale_bench_builds_and_drops_the_synthetic_collection(services):
    out = retrieval_scale(services, services.settings.collection, 500, FIXTURE, 5)
    assert out["chunks"] == 500 and out["n"] == len(load_queries(FIXTURE))
    assert out["search_ms"]["p95"] > 0 and out["embed_ms"]["p95"] > 0
    assert "scale-500" not in [c.name for c in services.chroma.list_collections()]
