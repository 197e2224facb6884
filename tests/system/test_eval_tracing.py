"""LangSmith tracing works by environment variables alone: a real run posts its trace to the endpoint.

A local HTTP server stands in for the LangSmith API (loopback only); nothing in the app configures tracing.
"""

from __future__ import annotations

import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.helpers import run_cli


class _Collector(BaseHTTPRequestHandler):
    bodies: list[tuple[str, bytes]] = []

    def _reply(self, body: bytes = b"{}") -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # /info and friends
        self._reply(b"{}")  # no server info: the client uses its defaults

    def do_POST(self):
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        type(self).bodies.append((self.path, data))
        self._reply()

    do_PATCH = do_POST

    def log_message(self, *args):
        pass


@pytest.mark.slow
def test_langsmith_env_vars_alone_send_the_supervisor_trace(data_dir):
    _Collector.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {"LANGSMITH_TRACING": "true", "LANGSMITH_API_KEY": "test-key", "LANGSMITH_PROJECT": "supportflow-test",
               "LANGSMITH_ENDPOINT": f"http://127.0.0.1:{server.server_port}"}
        out = run_cli(data_dir, "ask", "How do I reset my password?", env=env)
        assert out.returncode == 0, out.stderr
    finally:
        server.shutdown()
    posted = b"".join(body for path, body in _Collector.bodies if path.startswith("/runs"))
    assert b"supervisor" in posted and b"triage" in posted and b"research" in posted
    assert b"supportflow-test" in posted
