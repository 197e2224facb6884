"""Shared fixtures: a pre-ingested data directory copied per test, PostgreSQL and Streamlit apps.

No network but loopback: pytest-socket blocks every other `connect` (`--allow-hosts` in pyproject.toml's
addopts). Plain helpers (paths, settings, subprocesses) are in tests/helpers.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import (
    SAMPLE_KB,
    STREAMLIT_APP,
    free_port,
    fresh_database,
    langgraph_dev,
    make_settings,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# No company system is connected unless a test connects one (tests/helpers.py NO_SYSTEMS): servers and CLIs the
# tests start inherit this.
os.environ.setdefault("SUPPORT_CONNECTORS_MODE", "off")
for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUPPORT_OPENAI_API_KEY", "SUPPORT_OPENAI_BASE_URL"):
    os.environ.pop(var, None)


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory) -> Path:
    """One ingested knowledge base and trained classifier, copied into each test's data dir."""
    from app.services import Services
    from knowledge.ingest import ingest

    data = tmp_path_factory.mktemp("template") / "data"
    svc = Services.from_settings(make_settings(data))
    report = ingest([SAMPLE_KB], svc.store(), svc.embedder)
    assert report.chunks > 0
    _ = svc.classifier  # trains and caches
    return data


@pytest.fixture
def data_dir(template_dir, tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(template_dir, target)
    return target


@pytest.fixture
def services(data_dir):
    from app.services import Services

    return Services.from_settings(make_settings(data_dir))


@pytest.fixture
def desk(services):
    from app.desk import SupportDesk

    d = SupportDesk(services=services)
    yield d
    d.close()


@pytest.fixture
def second_desk(data_dir):
    """Another SupportDesk on the data directory a Streamlit app under test reads, as a second process would."""
    from app.desk import SupportDesk

    d = SupportDesk(data_dir=data_dir)
    yield d
    d.close()


@pytest.fixture
def pg_url():
    """A fresh database on 127.0.0.1:5432, dropped afterwards; skips when PostgreSQL is unreachable."""
    with fresh_database() as url:
        yield url


@pytest.fixture(name="app")
def streamlit_app(data_dir, monkeypatch):
    """The Streamlit console (streamlit_app.py) under AppTest, reading this test's data directory."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SUPPORT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("SUPPORT_OFFLINE", "true")
    st.cache_resource.clear()
    at = AppTest.from_file(str(STREAMLIT_APP), default_timeout=180)
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def dev_server(data_dir, tmp_path):
    """A real `langgraph dev` server on the repo's langgraph.json; its `.env` is the only configuration."""
    with langgraph_dev(tmp_path, data_dir) as (client, _project):
        yield client


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` server on a free localhost port; yields the port once it accepts connections."""
    port = free_port()
    exe = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen([str(exe), "run", "--path", str(tmp_path / "server-db"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert proc.poll() is None, "chroma server exited"
                time.sleep(0.2)
        else:
            pytest.fail("chroma server did not start")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)
