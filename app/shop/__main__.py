"""`python -m app.shop seed FILE | serve`: kept free of the desk's imports, so a stdio server starts in well under a
second (the desk starts one per process)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def default_db() -> Path:
    if os.environ.get("SUPPORT_SHOP_DB"):
        return Path(os.environ["SUPPORT_SHOP_DB"])
    return Path(os.environ.get("SUPPORT_DATA_DIR") or ".support-data") / "shop.db"


def seed(file: Path, db: Path | None = None, replace: bool = False, if_empty: bool = False) -> dict:
    from app.shop.fixture import load_fixture
    from app.shop.ledger import Ledger

    return Ledger(db or default_db()).seed(load_fixture(file), replace=replace, if_empty=if_empty)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.shop", description="The Brightwave sample shop.")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("seed", help="Load a fixture (docs/shop.md) into the shop's database.")
    s.add_argument("file", type=Path)
    s.add_argument("--db", type=Path, default=None, help="SQLite file (default: $SUPPORT_SHOP_DB, else "
                                                          "$SUPPORT_DATA_DIR/shop.db).")
    mode = s.add_mutually_exclusive_group()
    mode.add_argument("--replace", action="store_true", help="Wipe the shop first.")
    mode.add_argument("--if-empty", action="store_true", help="Do nothing if the shop already has customers.")
    v = sub.add_parser("serve", help="Serve the shop over MCP stdio, or MCP streamable HTTP plus a REST API.")
    v.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    v.add_argument("--host", default="127.0.0.1")
    v.add_argument("--port", type=int, default=8765)
    v.add_argument("--db", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.command == "seed":
        from app.shop.fixture import FixtureError

        try:
            counts = seed(args.file, args.db, args.replace, args.if_empty)
        except (FixtureError, ValueError) as exc:
            print(exc, file=sys.stderr)
            return 2
        print(f"seeded {counts['customers']} customers and {counts['orders']} orders into {args.db or default_db()}"
              + (" (skipped: the shop already has customers)" if counts.get("skipped") else ""))
        return 0
    from app.shop.server import serve

    serve(args.db or default_db(), args.transport, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
