"""`make run` warms the console before it prints the URL (app/ui/warm.py): one headless session over Streamlit's
websocket builds the desk, so the first person's page is quick. Against a real `streamlit run`."""

from __future__ import annotations

import os
import sys
import urllib.request

import pytest

from tests.helpers import ROOT, free_port, server

pytestmark = pytest.mark.slow


def test_the_first_session_builds_the_desk_so_the_next_one_is_quick(data_dir, tmp_path):
    from app.ui.warm import warm

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SUPPORT_DATA_DIR": str(data_dir), "SUPPORT_OFFLINE": "true"}

    def healthy() -> None:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            assert r.read() == b"ok"

    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    with server(cmd, ROOT, env, tmp_path / "streamlit.log", healthy, "streamlit run"):
        first = warm(url, timeout=240)
        second = warm(url, timeout=60)
    assert second < first  # the desk is cached in the server process now
    with pytest.raises(OSError):
        warm(f"http://127.0.0.1:{free_port()}", timeout=1)  # nothing listening: a clear error, not a hang
