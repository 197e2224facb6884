"""`python -m app review ...`: the human-review inbox, decisions (one thread or a group), SLA and the registry."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from agents.compliance.hitl import lowers_amount
from agents.compliance.reviewers import ReviewerError, load_registry
from agents.compliance.reviewers import hash_token as _hash_token
from app.cli.common import desk, emit, fail, json_option, print_json, services, settings

review_app = typer.Typer(help="Human review of paused conversations.", no_args_is_help=True)
VIA = "operator-cli"  # operator mode: whoever runs the CLI vouches for --reviewer; the audit entry says so
EX_TEMPFAIL = 75  # sysexits.h: the thread is busy with another run; nothing was recorded, try again
REVIEWER = typer.Option(..., "--reviewer", help="Who decides (a reviewer id from the registry; checked against its "
                                                "role and approval limit).")
QUEUE = typer.Option(None, "--queue", help="Only this queue.")
MAY_DECIDE = typer.Option(None, "--reviewer", help="Only what this reviewer may decide.")
NOTE = typer.Option(None, "--note", help="Why: kept with the decision in the audit trail (`audit show`) and, when "
                                         "the decision creates a ticket, added to it as an internal note.")
THREAD = typer.Argument(..., help="The paused conversation's thread id (see `review list`).")
GROUP = typer.Argument(..., help="A group id from `review groups`.")
LIMIT = typer.Option(50, "--limit", min=1, help="At most this many items (one page, most urgent first).")
OFFSET = typer.Option(0, "--offset", min=0, help="Skip this many items first (the next page: --offset 50).")


def _money(v) -> str:
    return "-" if v is None else f"${v:,.0f}"


def _listing(call):
    try:
        return call()
    except ReviewerError as exc:
        fail(str(exc))


@review_app.command("list")
def review_list(as_json: bool = json_option(), queue: str | None = QUEUE, reviewer: str | None = MAY_DECIDE,
                limit: int = LIMIT, offset: int = OFFSET) -> None:
    """Pending reviews across all threads, most urgent and oldest first, a page at a time (from the index of pending
    reviews; each item read back from its thread)."""
    items = _listing(lambda: desk().reviews.inbox(queue=queue, reviewer=reviewer, limit=limit, offset=offset))
    if as_json:
        print_json([{k: v for k, v in it.items() if k != "review"} for it in items])
        return
    if not items:
        typer.echo("no pending reviews")
    for it in items:
        flag = " OVERDUE" if it["overdue"] else ""
        flag += f" → {it['escalated_to']}" if it["escalated_to"] else ""
        typer.echo(f"{it['thread_id']}  {it['priority']:<7}{it['queue'] or '-':<14}{it['age']:>8}  {it['rule_id']}  "
                   f"{it['action']} {_money(it['amount'])} ({it['tier']}){flag} — {it['reason']}")
        for note in it.get("customer_notes") or []:  # what the customer added while it waited
            typer.echo(f"    customer added: {note['text']}")


def _busy(exc) -> None:
    fail(f"thread busy, retry: {exc}", code=EX_TEMPFAIL)


def _decide(thread_id: str, decision: dict, as_json: bool) -> None:
    # deferred: app.desk is the graph on top of Chroma (~3 s); desk() loads it anyway, this keeps `--help` fast
    from app.desk import MessageError, NoPendingReviewError, ReviewPayloadError, ThreadBusyError, UnknownThreadError

    support = desk()
    try:
        result = support.reviews.decide(thread_id, {"decisions": [decision]}, via=VIA)
    except ThreadBusyError as exc:  # another message or decision is running on the thread: retryable
        _busy(exc)
    except (UnknownThreadError, NoPendingReviewError, ReviewPayloadError, MessageError) as exc:
        fail(str(exc))
    if as_json:
        print_json(result.model_dump())
        return
    typer.echo(result.answer or "")
    ticket = f" · ticket {result.ticket_id}" if result.ticket_id else ""
    typer.echo(f"[thread {result.thread_id} · {decision['type']} by {decision['reviewer']} · {result.outcome}{ticket}]")
    if result.pending_review:
        req = result.pending_review["action_requests"][0]
        typer.echo(f"still paused for review: {req['description']}")


@review_app.command("approve")
def review_approve(thread_id: str = THREAD, reviewer: str = REVIEWER, note: str | None = NOTE,
                   as_json: bool = json_option()) -> None:
    """Approve a paused action (the reviewer must hold the rule's role and a high enough limit).

    Exits 75 (EX_TEMPFAIL) when the thread is busy with another run: nothing was recorded, run it again."""
    _decide(thread_id, {"type": "approve", "reviewer": reviewer, "note": note}, as_json)


@review_app.command("reject")
def review_reject(thread_id: str = THREAD, reviewer: str = REVIEWER,
                  message: str | None = typer.Option(None, help="What the customer is told."),
                  as_json: bool = json_option()) -> None:
    """Reject a paused action; the customer is told the message. Exits 75 when the thread is busy."""
    _decide(thread_id, {"type": "reject", "reviewer": reviewer, "message": message}, as_json)


@review_app.command("edit")
def review_edit(thread_id: str = THREAD, reviewer: str = REVIEWER,
                args: str = typer.Option(...,
                                         help='JSON merged into the action arguments, e.g. {"amount": 300}'),
                message: str | None = typer.Option(None, help="What the customer is told about the change "
                                                               "(required when the edit lowers the amount)."),
                as_json: bool = json_option()) -> None:
    """Change the action's arguments; the policy is checked again on the edited action. Exits 75 when busy."""
    from app.desk import NoPendingReviewError, UnknownThreadError  # deferred: as in _decide

    try:
        changes = json.loads(args)
        if not isinstance(changes, dict):
            raise ValueError("must be a JSON object")
    except ValueError as exc:
        fail(f"--args: {exc}")
    try:
        pending = desk().get(thread_id).pending_review
    except UnknownThreadError as exc:
        fail(str(exc))
    if not pending:
        fail(NoPendingReviewError(f"thread {thread_id} has no pending review").args[0])
    action = pending["action_requests"][0]
    edited = {"name": action["name"], "args": {**action["args"], **changes}}
    if lowers_amount(action["args"], edited["args"]) and not (message or "").strip():
        fail("this edit approves less than the customer asked for: add --message telling them why")
    _decide(thread_id, {"type": "edit", "reviewer": reviewer, "edited_action": edited,
                        **({"message": message} if message else {})}, as_json)


@review_app.command("groups")
def review_groups(as_json: bool = json_option(), queue: str | None = QUEUE,
                  reviewer: str | None = MAY_DECIDE) -> None:
    """Similar pending reviews grouped (rule, intent, amount band, request text): decide a group at once."""
    groups = _listing(lambda: desk().review_groups(queue=queue, reviewer=reviewer))
    if as_json:
        print_json([{**g, "items": [{k: v for k, v in it.items() if k != "review"} for it in g["items"]]}
                    for g in groups])
        return
    if not groups:
        typer.echo("no pending reviews")
    for g in groups:
        amounts = f"{_money(g['amount_min'])}–{_money(g['amount_max'])}" if g["amount_min"] is not None else "no amount"
        typer.echo(f"{g['group_id']}  {g['count']:>3} × {g['rule_id']} ({g['intent']}, {amounts}, queue {g['queue']}) "
                   f"— e.g. {(g['sample_request'] or '')[:70]!r}; qualified: {', '.join(g['qualified']) or 'nobody'}")


def _decide_group(group_id: str, decision: str, reviewer: str, as_json: bool, **kw) -> None:
    from app.review.groups import GroupNotFoundError  # deferred: loads scikit-learn (~2 s); keeps `--help` fast

    try:
        summary = desk().reviews.decide_group(group_id, decision, reviewer, via=VIA, **kw)
    except (GroupNotFoundError, ReviewerError) as exc:
        fail(str(exc))
    emit(summary, as_json)
    if summary["failed"]:
        raise typer.Exit(1)


@review_app.command("approve-group")
def approve_group(group_id: str = GROUP, reviewer: str = REVIEWER,
                  note: str | None = typer.Option(None, help="Why: kept with each decision in the audit trail."),
                  as_json: bool = json_option()) -> None:
    """Approve every member of a group; each thread is resumed and audited on its own."""
    _decide_group(group_id, "approve", reviewer, as_json, note=note)


@review_app.command("reject-group")
def reject_group(group_id: str = GROUP, reviewer: str = REVIEWER,
                 message: str | None = typer.Option(None, help="What each customer is told."),
                 as_json: bool = json_option()) -> None:
    """Reject every member of a group; each thread is resumed and audited on its own."""
    _decide_group(group_id, "reject", reviewer, as_json, message=message)


@review_app.command("sla")
def review_sla(now: float | None = typer.Option(None, hidden=True,
                                                help="Judge deadlines as of this UNIX time."),
               as_json: bool = json_option()) -> None:
    """Escalate overdue reviews (priority up, another role notified in the audit trail). Idempotent."""
    escalated = _listing(lambda: desk().sla_sweep(now=now))
    if as_json:
        print_json({"escalated": escalated, "count": len(escalated)})
        return
    typer.echo(f"{len(escalated)} overdue review(s) escalated")
    for item in escalated:
        typer.echo("  " + (" ".join(f"{k}={v}" for k, v in item.items()) if isinstance(item, dict) else str(item)))


@review_app.command("reindex")
def review_reindex(as_json: bool = json_option()) -> None:
    """Rebuild the index of pending reviews from the checkpointer: every thread is read once. For a deployment that
    predates the index (`db upgrade` fills it once too) or to repair it; safe while the desk is running."""
    from app.review.inbox import read  # deferred: as in _decide

    runner = desk().runner
    done = runner.pending.rebuild(runner.thread_ids(), lambda tid: read(runner, tid))
    if as_json:
        print_json(done)
        return
    typer.echo(f"{done['pending']} pending review(s) in {done['threads']} thread(s); {done['removed']} stale row(s) "
               "removed")


@review_app.command("reviewers")
def review_reviewers(file: Path | None = typer.Argument(None, help="Registry file (default: the one in force)."),
                     as_json: bool = json_option()) -> None:
    """Validate the reviewer registry (and against the policy); list reviewers."""
    path = file or settings().reviewers_file
    try:
        reg = load_registry(path)
    except ReviewerError as exc:
        fail(str(exc))
    problems = reg.check_policy(services().policy)
    if problems:
        fail(f"{path}: does not cover the policy:\n  " + "\n  ".join(problems))
    if as_json:
        print_json(reg.model_dump(exclude={"source"}))
        return
    typer.echo(f"{path}: valid, {len(reg.reviewers)} reviewers, {len(reg.queues)} queues")
    for r in reg.reviewers:
        typer.echo(f"  {r.id:<8} limit {_money(r.approval_limit):>8}  roles {', '.join(r.roles)}  "
                   f"queues {', '.join(r.queues)}")


@review_app.command("hash-token")
def hash_token(token: str = typer.Option(..., prompt=True, hide_input=True,
                                        help="The reviewer's secret token (prompted for, not echoed, if omitted).")
               ) -> None:
    """Print the token_hash to put in the registry for a reviewer's secret token."""
    typer.echo(_hash_token(token))
