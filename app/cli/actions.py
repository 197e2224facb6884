"""`actions`: the writes the desk made in the company's systems, and the reconciler for ones a crash cut short."""

from __future__ import annotations

import typer

from app.cli.common import json_option, print_json, services

JSON = json_option()

actions_app = typer.Typer(help="Writes made in the company's systems (refunds, cancellations, contact updates).",
                          no_args_is_help=True)


@actions_app.command("list")
def list_actions(thread: str = typer.Option(..., "--thread", help="The thread whose writes to list."),
                 as_json: bool = JSON) -> None:
    """Every write of a thread: operation, mode, status, reference, the exact call (redacted)."""
    rows = services().executions.of_thread(thread)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['operation']:<15} {r['mode']:<8} {r['status']:<9} {r.get('reference') or '-':<12} "
                   f"key {r['key']} ticket {r.get('ticket_id') or '-'}")
    if not rows:
        typer.echo("no writes on this thread")


@actions_app.command("reconcile")
def reconcile(older_than: float = typer.Option(60.0, help="Only writes planned at least this many seconds ago."),
              limit: int = typer.Option(100, help="At most this many."), as_json: bool = JSON) -> None:
    """Settle writes whose outcome was never recorded (a crash): each is called again with its own idempotency
    key, so the system returns the first outcome or carries it out now, once."""
    from app.actions import reconcile as run

    svc = services()
    try:
        settled = run(svc, older_than=older_than, limit=limit)
    finally:
        svc.close_systems()
    if as_json:
        print_json(settled)
        return
    for s in settled:
        typer.echo(f"{s['key']}: {s['operation']} {s['status']}" + (f" ({s['reference']})" if s.get("reference")
                                                                     else ""))
    typer.echo(f"{len(settled)} settled")
