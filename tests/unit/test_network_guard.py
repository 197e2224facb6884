"""Tests run without network but loopback: pytest-socket with `--allow-hosts` (pyproject.toml addopts)."""

from __future__ import annotations

import socket
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest
from pytest_socket import SocketConnectBlockedError

pytestmark = pytest.mark.filterwarnings("ignore:A test tried to use socket")


@pytest.mark.parametrize("address", [("10.255.255.1", 80), ("192.0.2.1", 443), ("2001:db8::1", 443)])
def test_outbound_connections_are_refused(address):
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        with pytest.raises(SocketConnectBlockedError, match=address[0]):
            s.connect(address)


def test_create_connection_to_a_remote_address_is_refused():
    with pytest.raises(SocketConnectBlockedError, match="10.255.255.1"):
        socket.create_connection(("10.255.255.1", 80), timeout=2)


def _listener(family: int, host: str) -> socket.socket:
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    s.listen()
    return s


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_ipv4_loopback_is_allowed(host):
    with _listener(socket.AF_INET, "127.0.0.1") as server:
        port = server.getsockname()[1]
        socket.create_connection((host, port), timeout=2).close()


def test_ipv6_loopback_is_allowed():
    try:
        server = _listener(socket.AF_INET6, "::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with server:
        socket.create_connection(("::1", server.getsockname()[1]), timeout=2).close()


def test_http_to_a_local_server_is_allowed():
    class Hello(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy from the environment
        with direct.open(f"http://localhost:{httpd.server_address[1]}/", timeout=5) as r:
            assert r.read() == b"hello"
    finally:
        httpd.shutdown()
        httpd.server_close()
