"""The HTTP page lists every route the app serves (the README's table once left out the ticket routes)."""

from __future__ import annotations

from app.http.api import create_app
from app.settings import Settings
from tests.helpers import ROOT


def test_every_route_is_on_the_http_page(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, rate_limit=""), warm_in_background=True)
    page = (ROOT / "docs" / "usage" / "http.md").read_text(encoding="utf-8")
    routes = [f"{method.upper()} {path}" for path, ops in app.openapi()["paths"].items() for method in ops]
    assert len(routes) >= 18
    missing = [r for r in routes if f"`{r}`" not in page]
    assert missing == [], f"add to docs/usage/http.md (## Every route): {missing}"
