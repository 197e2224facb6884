"""The unit level: no data directory, no embedding model, no server, no subprocess; seconds in all (`make test-fast`).

Two guards keep it that way, so a slow test cannot creep in here unnoticed:
- a unit test that asks (directly or through another fixture) for a fixture of tests/conftest.py that ingests the
  sample knowledge base, trains the classifier or starts something fails before that fixture is set up;
- a unit test that embeds text (which loads the embedding model) or starts a process fails where it does it.
Such a test belongs in tests/integration/ (stores, the model, Chroma, the `data_dir`/`desk` fixtures) or in
tests/system/ (servers, subprocesses, `langgraph dev`, the browser, PostgreSQL).
"""

from __future__ import annotations

import subprocess

import pytest

from knowledge.embeddings import Embedder
from knowledge.onnx_embed import OnnxMiniLM

# `template_dir` ingests and trains (once a session); the others are built on it or start a server or a database.
NOT_HERE = frozenset({"template_dir", "data_dir", "services", "desk", "app", "dev_server", "chroma_server", "pg_url"})

# Every way into the embedding model: the Embedder's methods and the ONNX model they run.
MODEL_ENTRY_POINTS = ((Embedder, ("embed", "embed_message", "_load")), (OnnxMiniLM, ("__init__", "encode",
                                                                                   "encode_message")))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    used = sorted(NOT_HERE.intersection(item.fixturenames))
    if used:
        pytest.fail(f"a unit test may not use the fixture(s) {', '.join(used)} (a data dir, the model, a server): "
                    "move it to tests/integration/ or tests/system/", pytrace=False)


def _refuse(what: str):
    def refused(*args, **kwargs):
        # pytest.fail raises an exception outside `Exception`, so no fallback path can swallow it
        pytest.fail(f"a unit test may not {what}: move it to tests/integration/ or tests/system/", pytrace=False)

    return refused


@pytest.fixture(autouse=True)
def _no_model_no_process(monkeypatch):
    for cls, names in MODEL_ENTRY_POINTS:
        for name in names:
            assert hasattr(cls, name), f"{cls.__name__}.{name} is gone: update the guard in tests/unit/conftest.py"
            monkeypatch.setattr(cls, name, _refuse(f"load the embedding model ({cls.__name__}.{name})"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("start a process"))
