"""Ingestion, chunk metadata, filters, thresholds, query shaping and the embedder on real Chroma and the real model.
Reading the formats and chunking alone are tests/unit/knowledge/test_documents.py."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from knowledge.ingest import ingest
from knowledge.lexical import LexicalIndex, chunk_terms, matches
from knowledge.query import sub_queries
from tests.helpers import SAMPLE_KB


def test_chunk_metadata_and_incremental_reingest(services, tmp_path):
    src = tmp_path / "kb"
    src.mkdir()
    (src / "g.html").write_text((SAMPLE_KB / "gift-cards.html").read_text())
    store = services.store("fmt-meta")
    assert ingest([src], store, services.embedder).added == 1
    _, _, metas = store.all_chunks()
    for m in metas:
        assert set(m) >= {"doc_id", "title", "section", "source", "content_hash", "ingested_at"}
        assert m["doc_id"] == "g.html" and m["title"] == "Gift cards" and len(m["content_hash"]) == 64
    again = ingest([src], store, services.embedder)
    assert (again.unchanged, again.chunks) == (1, 0)


def test_bm25_matrix_matches_rank_bm25(services):
    ids, texts, metas = services.store().all_chunks()
    index = LexicalIndex(ids, texts, metas)
    reference = BM25Okapi([chunk_terms(t, m) for t, m in zip(texts, metas, strict=False)])
    for q in ("refund for a damaged parcel", "reset password reset link", "zzz unknownword"):
        from knowledge.text import tokens
        assert np.allclose(index.scores(q), reference.get_scores(tokens(q)), atol=1e-4)


def test_filters_apply_to_both_sides(services):
    retriever = services.retriever()
    where = {"doc_id": {"$in": ["refund-timelines.md", "warranty.md"]}}
    hits = retriever.search("How do I reset my password?", k=10, where=where)
    assert hits and {h.doc_id for h in hits} <= {"refund-timelines.md", "warranty.md"}
    assert matches({"a": 1, "b": "x"}, {"$and": [{"a": {"$gte": 1}}, {"$or": [{"b": "y"}, {"b": {"$ne": "z"}}]}]})
    assert not matches({"a": 1}, {"a": {"$nin": [1, 2]}})


def test_threshold_says_not_in_knowledge_base(services):
    retriever = services.retriever()
    assert retriever.search("quantum chromodynamics lattice gauge theory", k=5, min_similarity=0.3) == []
    assert retriever.search("How long does a refund take?", k=5, min_similarity=0.3)


def test_long_message_sub_queries_find_every_need(services):
    message = ("Hi, hope you're well. I bought headphones from you last month and I've been traveling a lot.\n\n"
               "The left earbud stopped charging after a week and I'd like to know whether the warranty "
               "covers that.\n\n"
               "Separately, I never got the invoice for that order and my company needs it for my expenses.")
    queries = sub_queries(message)
    assert queries[0] == message and len(queries) >= 3
    got = [h.doc_id for h in services.retriever().search(queries, k=5)]
    assert "warranty.md" in got and "invoices-and-receipts.md" in got


@pytest.fixture(scope="module")
def models_dir(template_dir, tmp_path_factory):
    """The template's exported model in a folder of its own: an fp32 export must not land in the template, which
    every test's data directory copies."""
    target = tmp_path_factory.mktemp("models")
    for onnx in (template_dir / "models").glob("*.onnx"):
        shutil.copy(onnx, target)
    return target


@pytest.mark.parametrize("backend,min_cosine", [("onnx", 0.97), ("onnx-fp32", 0.999)])
def test_onnx_embedder_keeps_sentence_transformers_vectors(backend, min_cosine, models_dir):
    from knowledge.embeddings import Embedder

    texts = ["How do I reset my password?", "hi", "Refunds take 5-10 business days. " * 80,  # > 256 tokens
             "Mein Paket ist beschädigt angekommen.", "ORDER #55120 never arrived!!! :("]
    onnx, reference = Embedder(models_dir, backend=backend), Embedder(models_dir, backend="torch")
    a, b = onnx.embed(texts), reference.embed(texts)
    assert onnx.backend == backend  # exported (or found) and checked, not silently fallen back
    assert ((a * b).sum(1) >= min_cosine).all()
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


def test_unknown_embedder_backend_is_refused(tmp_path):
    from knowledge.embeddings import Embedder

    with pytest.raises(ValueError, match="onnx-fp32"):
        Embedder(tmp_path, backend="tensorflow")


def test_llm_rewrites_long_messages_into_fused_sub_queries(services):
    from agents.research.nodes import retrieve
    from app.llm.models import ModelRouter
    from app.llm.scripted import ScriptedChatModel

    small, big = ScriptedChatModel(model="small"), ScriptedChatModel(model="big")
    services.models = ModelRouter(triage=small, research=big)
    small.script["SearchQueries"] = [{"queries": ["headphone warranty claim", "missing invoice for an order"]}]
    message = ("Hello. I hope this finds you well. I have been a customer for years. "
               "My earbuds died after a week. Also my employer wants the invoice I never got.")
    out = retrieve({"request": message}, services)
    assert out["research"]["queries"] == [message, "headphone warranty claim", "missing invoice for an order"]
    assert {"warranty.md", "invoices-and-receipts.md"} <= set(out["research"]["retrieved"])
    assert out["llm_calls"][0]["error"] is None and [c["tool"] for c in small.calls] == ["SearchQueries"]
    assert big.calls == []  # the cheap model rewrites
    small.script["SearchQueries"] = [RuntimeError("provider down")]
    fallback = retrieve({"request": message}, services)
    assert fallback["research"]["queries"][0] == message and fallback["llm_calls"][0]["error"]
    assert retrieve({"request": "How do I reset my password?"}, services).get("llm_calls") is None  # short: no call


def test_message_and_its_parts_are_embedded_in_one_pass(models_dir):
    from knowledge.embeddings import Embedder, locate

    embedder = Embedder(models_dir)
    message = "My card was stolen at the bar last night.\n\nI also  want to\nraise my daily limit before Friday."
    parts = ["My card was stolen at the bar last night.", "I also want to raise my daily limit before Friday.",
             "increase card spending limit"]  # the last one is a rewrite, not a piece of the message
    assert locate(message, parts[1]) == (message.index("I also"), len(message)) and locate(message, parts[2]) is None
    got = embedder.embed_message(message, parts)
    assert got.shape == (4, 384) and np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert np.allclose(got[0], embedder.embed([message])[0], atol=1e-5)  # the whole message: the same pass
    assert np.allclose(got[3], embedder.embed([parts[2]])[0], atol=1e-5)  # not in it: embedded on its own
    alone = embedder.embed(parts[:2])
    assert (got[1:3] * alone).sum(1).min() > 0.8  # pooled in context, still about the same thing
    assert got[1] @ alone[0] > got[1] @ alone[1] and got[2] @ alone[1] > got[2] @ alone[0]

    long = "Refunds take 5-10 business days. " * 80  # longer than the model reads: the mean of its parts
    parts = ["Refunds take 5-10 business days.", "Where is my parcel?"]
    got, alone = embedder.embed_message(long, parts), embedder.embed(parts)
    mean = alone.mean(0) / np.linalg.norm(alone.mean(0))
    assert float(got[0] @ mean) > 0.999 and np.allclose(got[1:], alone, atol=1e-5)


def test_writes_by_another_process_are_seen_after_the_recheck(services, tmp_path, monkeypatch):
    import knowledge.retrieve as retrieve_module

    monkeypatch.setattr(retrieve_module, "RECHECK_S", 3600.0)
    src = tmp_path / "kb"
    src.mkdir()
    (src / "a.md").write_text("# Alpha\nAlpha widgets are blue and ship in 3 days.")
    store = services.store("test-freshness")
    retriever = services.retriever("test-freshness")
    assert retriever.search("alpha widgets", k=3) == []
    ingest([src], store, services.embedder)  # a write in this process: seen at once
    assert [h.doc_id for h in retriever.search("alpha widgets", k=3)] == ["a.md"]

    text = "Gamma boxes fold flat for storage."  # another process writes straight to Chroma
    store.col.upsert(ids=["gamma#0"], embeddings=[services.embedder.embed([text])[0].tolist()], documents=[text],
                     metadatas=[{"doc_id": "gamma", "title": "Gamma", "section": "", "content_hash": "x"}])
    assert "gamma" not in [h.doc_id for h in retriever.search("gamma boxes fold flat", k=3)]
    monkeypatch.setattr(retrieve_module, "RECHECK_S", 0.0)
    assert [h.doc_id for h in retriever.search("gamma boxes fold flat", k=3)][0] == "gamma"
