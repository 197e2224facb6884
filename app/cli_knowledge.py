"""`bench retrieval` and `bench retrieval-scale`: retrieval quality and latency as JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from app.cli_common import fail, print_json, services


def bench_retrieval(
    queries: Path = typer.Option(..., help='JSONL: one {"query", "relevant" (doc ids), optional "split"} object per line.'),
    collection: Optional[str] = typer.Option(None),
    k: int = typer.Option(10),
    split: Optional[str] = typer.Option(None, help="Only rows whose \"split\" is this (e.g. dev, validation)."),
) -> None:
    """recall@k, MRR and latency of hybrid retrieval on labelled queries."""
    from app.bench import retrieval

    try:
        print_json(retrieval(services(), collection, queries, k, split))
    except (OSError, ValueError) as exc:
        fail(str(exc))


def bench_retrieval_scale(
    queries: Path = typer.Option(..., help="JSONL queries to time (only \"query\" is used)."),
    source: Optional[str] = typer.Option(None, help="Collection whose chunks are replicated (default from settings)."),
    chunks: int = typer.Option(10000, help="Size of the synthetic collection."),
    k: int = typer.Option(10),
) -> None:
    """Query latency on a synthetic collection of CHUNKS chunks built from SOURCE (then deleted)."""
    from app.bench import retrieval_scale

    svc = services()
    try:
        print_json(retrieval_scale(svc, source or svc.settings.collection, chunks, queries, k))
    except (OSError, ValueError) as exc:
        fail(str(exc))
