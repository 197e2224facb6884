"""The API documents itself: `/docs` renders with no network (Swagger UI's assets are served by the service
itself, fastapi-offline), and the OpenAPI document declares how to authenticate and every error a route answers.
Over real HTTP (uvicorn), and rendered in headless Chromium with every host but 127.0.0.1 unresolvable."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import httpx
import pytest

from tests.system.test_http_api import _env, _serve

pytestmark = pytest.mark.slow
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def api(data_dir, tmp_path):
    ctx, url = _serve(tmp_path, _env(data_dir))
    with ctx:
        yield url


def test_docs_page_needs_no_network(api):
    """Before: /docs loaded Swagger UI from a CDN, so offline it was a blank page."""
    html = httpx.get(f"{api}/docs", timeout=30).text
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html) + re.findall(r"url: ?['\"]([^'\"]+)", html)
    assert urls and not [u for u in urls if u.startswith(("http:", "https:", "//"))], urls
    for u in urls:
        assert httpx.get(f"{api}{u}", timeout=30).status_code == 200, u
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}; the page's own assets were checked above")
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                          "--virtual-time-budget=15000", "--dump-dom", f"{api}/docs"],
                         capture_output=True, text=True, timeout=120).stdout
    assert "opblock" in dom and "/v1/messages" in dom, dom[-2000:]  # Swagger UI drew the operations
    assert "Authorize" in dom


def test_openapi_declares_the_security_schemes_and_every_error(api):
    doc = httpx.get(f"{api}/openapi.json", timeout=30).json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer", "description": schemes["bearer"]["description"]}
    assert schemes["apiKey"]["in"] == "header" and schemes["apiKey"]["name"] == "X-API-Key"
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for path, ops in doc["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, op in ops.items():
            assert {"bearer": []} in op["security"], (method, path)
            codes = set(op["responses"])
            assert {"400", "401", "403", "404", "409"} <= codes and "422" not in codes, (method, path, codes)
            for code in codes - {"200"}:
                assert op["responses"][code]["content"]["application/json"]["schema"] == error, (method, path, code)
    assert doc["paths"]["/v1/tickets/{ticket_id}/handback"]["post"]
