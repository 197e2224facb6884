"""OpenAI embeddings for the knowledge base: the real langchain-openai client against the local stub server,
collections that remember their model, and keyword search when the provider is down."""

from __future__ import annotations

import pytest

from app.services import Services
from knowledge.ingest import ingest
from knowledge.store import EmbedderMismatch
from tests.helpers import make_settings
from tests.stub_openai import OpenAIStub, embedding_reply, error_reply

DOCS = {
    "alpha.md": "# Alpha widgets\nAlpha widgets are blue and ship within 3 days of the order.",
    "beta.md": "# Beta gadgets\nBeta gadgets need charging every night; the charger is in the box.",
    "gamma.md": "# Gamma boxes\nGamma boxes fold flat for storage and carry up to 20 kg.",
}


def _services(data_dir, url):
    return Services.from_settings(make_settings(data_dir, embedding_model="text-embedding-3-small",
                                                openai_base_url=url, collection="oai-kb", llm_max_retries=0,
                                                llm_timeout=5))


@pytest.fixture
def kb(tmp_path):
    src = tmp_path / "kb"
    src.mkdir()
    for name, text in DOCS.items():
        (src / name).write_text(text)
    return src


def test_knowledge_base_embedded_and_searched_with_the_configured_model(data_dir, kb):
    with OpenAIStub(lambda req: embedding_reply()) as stub:
        svc = _services(data_dir, stub.url)
        report = ingest([kb], svc.store(), svc.search_embedder)
        hits = svc.retriever().search("how heavy a load can the gamma storage boxes carry", k=2)
    assert report.added == 3 and hits[0].doc_id == "gamma.md"
    assert stub.requests and {r["path"] for r in stub.requests} == {"/v1/embeddings"}
    assert {r["body"]["model"] for r in stub.requests} == {"text-embedding-3-small"}
    assert svc.store().metadata()["embedder"] == "openai:text-embedding-3-small"
    assert svc.classifier.embedder.name == "all-MiniLM-L6-v2"  # triage keeps the local model


def test_a_collection_refuses_vectors_from_another_model(data_dir, kb):
    with OpenAIStub(lambda req: embedding_reply()) as stub:
        svc = _services(data_dir, stub.url)
        ingest([kb], svc.store(), svc.search_embedder)
    local = Services.from_settings(make_settings(data_dir, collection="oai-kb"))
    (kb / "delta.md").write_text("# Delta\nDelta cables are two metres long.")
    with pytest.raises(EmbedderMismatch, match="openai:text-embedding-3-small"):
        ingest([kb], local.store(), local.search_embedder)
    assert local.store().doc_hashes().keys() == set(DOCS)  # nothing was written
    with pytest.raises(EmbedderMismatch, match="all-MiniLM-L6-v2"):
        local.retriever().search("delta cables", k=2)


def test_provider_down_research_falls_back_to_keyword_search(data_dir, kb):
    from agents.research.nodes import retrieve

    with OpenAIStub(lambda req: embedding_reply()) as stub:
        svc = _services(data_dir, stub.url)
        ingest([kb], svc.store(), svc.search_embedder)
        stub.router = lambda req: error_reply(500)
        out = retrieve({"request": "Do beta gadgets need charging every night?"}, svc)["research"]
    assert out["retrieved"][0] == "beta.md" and out["found"]
    assert "BM25 only" in out["degraded"] and "openai:text-embedding-3-small" in out["degraded"]


def test_embedding_model_without_a_provider_is_a_clear_error(data_dir):
    svc = Services.from_settings(make_settings(data_dir, embedding_model="text-embedding-3-small",
                                               openai_api_key=None, openai_base_url=None))
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        svc.search_embedder  # noqa: B018
