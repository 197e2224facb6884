"""`ingest`, `ask` and `tickets list`: documents in, customer messages through the graph, the tickets it created."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from app.cli.common import desk, fail, json_option, print_json, services

EX_TEMPFAIL = 75  # sysexits.h: a temporary failure, try again
EX_NOPERM = 77  # sysexits.h: permission denied


def ingest(
    paths: list[Path] = typer.Argument(..., help="Files or folders (.md, .txt, .html, .pdf, .json, .jsonl records), "
                                       "inside the knowledge roots (SUPPORT_KNOWLEDGE_ROOTS)."),
    reviewer: str = typer.Option(..., "--reviewer", help="Your id in the reviewer registry; it must hold the "
                                 "'knowledge' role."),
    token: str = typer.Option(..., "--token", envvar="SUPPORT_REVIEWER_TOKEN", show_default=False,
                              help="Your secret token (prefer the environment variable: arguments show in `ps`)."),
    collection: str | None = typer.Option(None, help="Chroma collection (default from settings)."),
    prune: bool = typer.Option(False, help="Delete documents no longer present in PATHS."),
    as_json: bool = json_option(),
) -> None:
    """Chunk, embed and store documents, as a knowledge editor (audited); unchanged documents are skipped. Exits 1
    when nothing could be read (only unsupported or unreadable files, or empty folders), 77 when not permitted
    (wrong token, no 'knowledge' role, a path outside the knowledge roots)."""
    from dataclasses import asdict

    from app import knowledge_ops as ops  # deferred: Chroma and the document readers (~0.8 s)

    svc = services()
    try:
        change = ops.ingest_paths(svc, ops.sign_in(svc.settings, reviewer, token), paths, collection, prune=prune,
                                  bar=sys.stderr.isatty())
    except PermissionError as exc:
        fail(str(exc), code=EX_NOPERM)
    except (FileNotFoundError, ValueError, ops.KnowledgeError) as exc:
        fail(str(exc))
    report = change.report
    read = report.added + report.updated + report.unchanged
    if as_json:
        print_json({"collection": change.collection, "read": read, **asdict(report)})
    for s in report.skipped:
        typer.echo(f"skipped {s}", err=True)
    if not read:
        fail(f"nothing could be read from {', '.join(map(str, paths))}: no supported, readable document "
             f"({len(report.skipped)} skipped)", code=1)
    if not as_json:
        typer.echo(f"ingested into {change.collection}: {report.summary()}")


def ask(
    message: str = typer.Argument(..., help="The customer's message."),
    thread: str | None = typer.Option(None, "--thread", help="Continue (or name) a conversation."),
    as_json: bool = typer.Option(False, "--json", help="Print the turn's state summary as JSON."),
    customer_id: str | None = typer.Option(None, help="Customer id."),
    verified: bool | None = typer.Option(None, "--verified/--unverified", help="Identity verified?"),
    tier: str | None = typer.Option(None, help="Customer tier, e.g. standard or plus."),
) -> None:
    """Send one customer message through the supervisor graph.

    Messages for one thread run one at a time, across processes; one that waited too long for the run
    ahead of it exits 75 (EX_TEMPFAIL: nothing was recorded, send it again)."""
    # deferred: LangGraph and the graph (~3 s); keeps `--help` fast
    from agents.supervisor.conversation import MessageError
    from app.desk import ThreadBusyError
    from app.thread_ids import check_thread_id

    customer = {k: v for k, v in {"id": customer_id, "verified": verified, "tier": tier}.items() if v is not None}
    try:
        if thread is not None:
            check_thread_id(thread)  # before the desk is built: nothing is opened for an id no store can hold
        support = desk()
        support.services.warm_up()  # model loading is warm-up, recorded apart, not this turn's latency
        result = support.send(message, thread_id=thread, customer=customer or None)
    except ThreadBusyError as exc:
        fail(f"thread busy, retry: {exc}", code=EX_TEMPFAIL)
    except MessageError as exc:
        fail(str(exc))
    if as_json:
        print_json(result.model_dump())
        return
    typer.echo(result.answer or "")
    meta = f"[thread {result.thread_id} · {result.intent} · {result.outcome} · route {' → '.join(result.route)}]"
    typer.echo(meta, err=True)
    if result.pending_review:
        req = result.pending_review["action_requests"][0]
        typer.echo(f"paused for review: {req['description']}; decide with `python -m app review approve "
                   f"{result.thread_id} --reviewer NAME`", err=True)
