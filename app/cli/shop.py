"""`shop`: the Brightwave sample shop (app/shop/), the system of record the desk acts in by default."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from app.cli.common import fail, settings

shop_app = typer.Typer(help="The sample shop: seed it from a fixture, serve it over MCP (stdio or HTTP).",
                       no_args_is_help=True)


@shop_app.command("seed")
def seed(file: Path = typer.Argument(..., help="Fixture JSON (docs/shop.md)."),
         db: Path | None = typer.Option(None, help="SQLite file (default: the shop_db setting, else the data "
                                                   "dir's shop.db)."),
         replace: bool = typer.Option(False, "--replace", help="Wipe the shop first."),
         if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing if the shop already has customers."),
         as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON.")) -> None:
    """Load customers and orders into the shop's database."""
    from app.shop.__main__ import seed as run
    from app.shop.fixture import FixtureError

    if replace and if_empty:
        fail("--replace and --if-empty exclude each other")
    target = db or settings().shop_path
    try:
        counts = run(file, target, replace, if_empty)
    except (FixtureError, ValueError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps({**counts, "db": str(target)}))
        return
    typer.echo(f"seeded {counts['customers']} customers and {counts['orders']} orders into {target}"
               + (" (skipped: the shop already has customers)" if counts.get("skipped") else ""))


@shop_app.command("serve")
def serve(transport: str = typer.Option("stdio", help="stdio (MCP) or http (MCP at /mcp and REST at /api)."),
          host: str = typer.Option("127.0.0.1", help="Address to listen on (http only)."),
          port: int = typer.Option(8765, help="Port to listen on (http only)."),
          db: Path | None = typer.Option(None, help="SQLite file (default: the data dir's shop.db).")) -> None:
    """Serve the shop (SHOP_API_TOKEN: a bearer token required over http)."""
    from app.shop.server import serve as run

    if transport not in ("stdio", "http"):
        fail("--transport is stdio or http")
    run(db or settings().shop_path, transport, host, port)
