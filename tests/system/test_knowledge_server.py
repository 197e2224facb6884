"""Chroma server mode: a real `chroma run` server on a free localhost port, used through HttpClient."""

from __future__ import annotations

import pytest

from tests.helpers import SAMPLE_KB, make_settings, run_cli

pytestmark = pytest.mark.slow


def test_ingest_and_search_through_server(chroma_server, tmp_path):
    from app.services import Services
    from knowledge.ingest import ingest

    svc = Services.from_settings(make_settings(tmp_path / "data", chroma_host="127.0.0.1", chroma_port=chroma_server))
    report = ingest([SAMPLE_KB], svc.store("server-kb"), svc.embedder)
    assert report.added >= 15 and report.chunks > 0
    assert not list((tmp_path / "data" / "chroma").glob("*.sqlite3"))  # stored on the server, not embedded
    hits = svc.retriever("server-kb").search("I forgot my password and the reset email never arrived", k=3)
    assert hits[0].doc_id == "password-reset.md"
    # a second process sees the same server-side collection: nothing to re-embed
    env = {"SUPPORT_CHROMA_HOST": "127.0.0.1", "SUPPORT_CHROMA_PORT": str(chroma_server),
           "SUPPORT_REVIEWER_TOKEN": "demo-kim"}
    out = run_cli(tmp_path / "other", "ingest", str(SAMPLE_KB), "--collection", "server-kb", "--reviewer", "kim",
                  env=env)
    assert out.returncode == 0, out.stderr
    assert f"0 added, 0 updated, {report.added} unchanged" in out.stdout
    assert not list((tmp_path / "other" / "chroma").glob("*.sqlite3"))  # nothing written locally
