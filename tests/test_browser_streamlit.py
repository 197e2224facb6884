"""The console in a real browser: `streamlit run` on a free port, headless Debian Chromium via Playwright.

Skips when Chromium or the playwright package is absent (CI installs Chromium in .ci/run). Playwright
drives the system browser (`executable_path`); it never downloads one.
"""

from __future__ import annotations

import os
import shutil
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import ROOT, free_port, server

pytestmark = pytest.mark.slow
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SLOW_MS = 240_000  # first page load builds the desk (embedding model, classifier) on a shared CPU


@pytest.fixture
def console(data_dir, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright (dev extras) is not installed")
    port = free_port()
    env = {**os.environ, "SUPPORT_DATA_DIR": str(data_dir), "SUPPORT_OFFLINE": "true"}
    url = f"http://127.0.0.1:{port}"

    def healthy() -> None:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            assert r.read() == b"ok"

    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    with server(cmd, ROOT, env, tmp_path / "streamlit.log", healthy, "streamlit run"):
        yield url


def test_chat_in_headless_chromium(console, tmp_path):
    from playwright.sync_api import sync_playwright

    shot = Path(os.environ.get("SUPPORT_SCREENSHOT_DIR") or tmp_path) / "streamlit-chat.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 1000})
        try:
            page = browser.new_page()
            page.goto(console)
            chat = page.get_by_placeholder("How can we help?")
            chat.wait_for(timeout=SLOW_MS)
            chat.fill("How do I reset my password?")
            chat.press("Enter")
            page.get_by_text("Source: How to reset your password").wait_for(timeout=SLOW_MS)
            answers = page.locator('[data-testid="stChatMessage"]').all_inner_texts()
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert len(answers) >= 2 and "How do I reset my password?" in answers[0], answers
    reply = answers[1]  # the assistant's completed, cited answer (wording comes from the knowledge base)
    assert "password" in reply.lower() and "password-reset.md" in reply, answers
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
