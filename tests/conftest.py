"""Shared fixtures: a pre-ingested data directory copied per test, and no network but loopback."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_KB = ROOT / "knowledge" / "sample"
SHARED_DATA = ROOT.parent / "shared" / "data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SUPPORT_OPENAI_API_KEY", "SUPPORT_OPENAI_BASE_URL"):
    os.environ.pop(var, None)

_real_connect = socket.socket.connect


def _guarded_connect(self, address):
    host = address[0] if isinstance(address, tuple) else None
    if host is not None:
        try:
            ok = ipaddress.ip_address(host).is_loopback
        except ValueError:
            ok = host == "localhost"
        if not ok:
            raise OSError(f"network disabled in tests: refused connection to {host}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True, scope="session")
def no_network():
    socket.socket.connect = _guarded_connect
    yield
    socket.socket.connect = _real_connect


def make_settings(data_dir: Path, **overrides):
    from app.settings import Settings

    return Settings(data_dir=data_dir, **{"offline": True, **overrides})


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory) -> Path:
    """One ingested knowledge base and trained classifier, copied into each test's data dir."""
    from app.services import Services
    from knowledge.ingest import ingest

    data = tmp_path_factory.mktemp("template") / "data"
    svc = Services.from_settings(make_settings(data))
    report = ingest([SAMPLE_KB], svc.store(), svc.embedder)
    assert report.chunks > 0
    svc.classifier  # trains and caches
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
    from app.api import SupportDesk

    d = SupportDesk(services=services)
    yield d
    d.close()


def free_port() -> int:
    """A localhost port nothing listens on right now, for the servers tests start."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(data_dir: Path, *args: str, env: dict | None = None, timeout: float = 180):
    """Run `python -m app` in a new process, as a user would."""
    import subprocess

    full_env = {**os.environ, "SUPPORT_OFFLINE": "true", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "app", "--data-dir", str(data_dir), *args],
        cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout,
    )
