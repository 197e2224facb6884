"""`python -m app bench ...`: every benchmark, each calling the run() of its module in app/bench/ (all print JSON).

The app/bench modules load the graph, Chroma and the models when imported, so each command imports its module only
when it runs (`python -m app --help` would otherwise take seconds longer).
"""

from __future__ import annotations

from pathlib import Path

import typer

from app.bench import ANSWERABILITY, COST_PARAPHRASE_RATE, COST_SCENARIOS
from app.cli.common import fail, print_json, services, settings

bench_app = typer.Typer(help="Benchmarks (print JSON).", no_args_is_help=True)


def bench_cost(
    scenarios: Path = typer.Option(COST_SCENARIOS, help="JSONL lines {id, intent, messages: [...]}."),
    max_calls_per_turn: int | None = typer.Option(None, help="Per-turn LLM call budget for the project's graph "
                                                         "(default: SUPPORT_LLM_MAX_CALLS_PER_TURN)."),
    paraphrase_rate: float = typer.Option(COST_PARAPHRASE_RATE, min=0.0, max=1.0,
                                          help="Share of the fake model's answers that are reworded (these need the "
                                               "LLM grounding judge; the rest keep to the sources' wording)."),
) -> None:
    """Mean LLM calls and prompt tokens per ticket: this project's graph vs an LLM-routed supervisor baseline."""
    from app.bench import cost  # deferred: see the module docstring

    try:
        report = cost.run(scenarios, max_calls_per_turn=max_calls_per_turn, paraphrase_rate=paraphrase_rate)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    print_json(report)


def bench_retrieval(
    queries: Path = typer.Option(..., help='JSONL: one {"query", "relevant" (doc ids), optional "split"} '
                                           'object per line.'),
    collection: str | None = typer.Option(None, help="Chroma collection (default from settings)."),
    k: int = typer.Option(10, help="Results per query (the k of recall@k)."),
    split: str | None = typer.Option(None, help="Only rows whose \"split\" is this (e.g. dev, validation)."),
) -> None:
    """recall@k, MRR and latency of hybrid retrieval on labelled queries."""
    from app.bench import retrieval  # deferred: see the module docstring

    try:
        print_json(retrieval.retrieval(services(), collection, queries, k, split))
    except (OSError, ValueError) as exc:
        fail(str(exc))


def bench_retrieval_scale(
    queries: Path = typer.Option(..., help="JSONL queries to time (only \"query\" is used)."),
    source: str | None = typer.Option(None, help="Collection whose chunks are replicated (default from settings)."),
    chunks: int = typer.Option(10000, help="Size of the synthetic collection."),
    k: int = typer.Option(10, help="Results per query."),
) -> None:
    """Query latency on a synthetic collection of CHUNKS chunks built from SOURCE (then deleted)."""
    from app.bench import retrieval  # deferred: see the module docstring

    svc = services()
    try:
        print_json(retrieval.retrieval_scale(svc, source or svc.settings.collection, chunks, queries, k))
    except (OSError, ValueError) as exc:
        fail(str(exc))


def bench_crash(
    kills: int = typer.Option(50, help="How many times the worker is killed."),
    conversations: int = typer.Option(0, help="Conversations to run (0 = four per kill, at least 20)."),
    seed: int = typer.Option(7, help="Seed of the random kill points."),
    max_delay: float = typer.Option(1.5, help="Longest wait, in seconds, before a kill."),
    database_url: str = typer.Option("", help="PostgreSQL URL to run on (default: SQLite in a temporary dir)."),
) -> None:
    """kill -9 a worker running conversations at random points; report lost conversations and duplicates."""
    from app.bench import crash  # deferred: see the module docstring

    report = crash.run(kills, conversations or None, seed=seed, max_delay=max_delay,
                       database_url=database_url or None)
    print_json(report)
    if report["lost_conversations"] or report["duplicate_tickets"] or report["duplicate_turns"]:
        raise typer.Exit(1)


def bench_actions(
    conversations: int = typer.Option(30, help="Conversations with actions (six shapes, round robin)."),
    kills: int = typer.Option(8, help="How many times the worker is killed (kill -9) mid-run."),
    fail_rate: float = typer.Option(0.3, min=0.0, max=1.0, help="Share of shop calls that fail before acting."),
    fail_after_rate: float = typer.Option(0.1, min=0.0, max=1.0,
                                          help="Share of shop writes that commit and then lose their response."),
    seed: int = typer.Option(11, help="Seed of the kill points and the faults."),
) -> None:
    """Actions against the shipped shop with kills and a failing connector: executed, ticketed, double and wrong
    executions, lost approved actions, and the latency the look-ups add (prints JSON; exit 1 on any double, wrong
    or lost action)."""
    from app.bench import actions  # deferred: see the module docstring

    report = actions.run(conversations, kills, fail_rate, fail_after_rate, seed=seed)
    print_json(report)
    if report["double_executions"] or report["lost_approved_actions"] or report["wrong_executions"]:
        raise typer.Exit(1)


def bench_concurrency(
    n: int = typer.Option(200, help="Concurrent conversations."),
    latency_ms: float = typer.Option(200, help="Latency of the fake model per call."),
    database_url: str = typer.Option("", help="PostgreSQL URL to run on (default: SQLite in a temporary dir)."),
) -> None:
    """n concurrent conversations (asyncio.gather over SupportDesk.asend) against a fake model with latency."""
    from app.bench import concurrency  # deferred: see the module docstring

    print_json(concurrency.run(n, latency_ms, database_url=database_url or None))


def bench_throughput(n: int = typer.Option(200, help="Tickets to push through each pipeline.")) -> None:
    """tickets/s through the full graph vs a bare LangGraph chain with the same number of nodes."""
    from app.bench import throughput  # deferred: see the module docstring

    print_json(throughput.run(n))


def bench_review_groups(
    threads: int = typer.Option(100, help="Escalations to generate (5 kinds, round robin)."),
) -> None:
    """Time the review inbox and batching on generated escalations (prints JSON)."""
    from app.bench import review_groups  # deferred: see the module docstring

    print_json(review_groups.run(settings().data_dir, threads))


def bench_inbox(
    sizes: str = typer.Option("100,1000,10000", help="Thread counts to build and time, comma-separated."),
    paused_share: float = typer.Option(0.25, min=0.01, max=1.0, help="Share of the threads paused for review."),
    limit: int = typer.Option(25, min=1, help="Page size of the timed inbox call."),
    calls: int = typer.Option(300, min=1, help="Timed inbox calls per size (the sizes take turns)."),
) -> None:
    """The review inbox's page time at each size (median, p95, ratio to the smallest), on throwaway data dirs."""
    from app.bench import inbox  # deferred: see the module docstring

    try:
        counts = tuple(int(n) for n in sizes.split(","))
    except ValueError:
        fail(f"--sizes takes whole numbers separated by commas, not {sizes!r}")
    print_json(inbox.run(settings().data_dir, counts, paused_share=paused_share, limit=limit, calls=calls))


def bench_serve(
    n: int = typer.Option(200, help="Offline questions per worker count."),
    workers: str = typer.Option("1,2,4", help="Worker counts to measure, comma-separated."),
    latency_ms: float = typer.Option(200, help="Latency of the local fake LLM endpoint per call."),
    conversations: int = typer.Option(200, help="Concurrent LLM-mode conversations (0 = skip)."),
) -> None:
    """The HTTP service under bounded load on 127.0.0.1: throughput and p50/p95/p99 per worker count."""
    from app.bench import serve  # deferred: see the module docstring

    try:
        counts = tuple(int(w) for w in workers.split(","))
    except ValueError:
        fail(f"--workers takes whole numbers separated by commas, not {workers!r}")
    print_json(serve.run(n, counts, latency_ms, conversations))


def bench_redteam(
    quick: bool = typer.Option(False, help="At least one probe per family, none of the slow ones."),
    family: list[str] = typer.Option([], help="Only this family (repeatable): limits, amounts, concurrency, "
                                              "identity, audit, killed_approval, pii, fuzz, async."),
    template: Path | None = typer.Option(None, help="An ingested data directory to copy instead of ingesting."),
) -> None:
    """Run the red-team probes (#19) against a fresh temporary data dir; JSON tally per family, exit 1 if any broke."""
    from app.bench import redteam  # deferred: see the module docstring

    try:
        report = redteam.run(quick, template, family or None)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    print_json(report)
    if report["broken"]:
        raise typer.Exit(1)


def bench_answerability(
    labelled: Path = typer.Option(ANSWERABILITY, help='JSONL: {"q": question, "answerable": true|false} per line.'),
) -> None:
    """How the answerability score separates answerable from unanswerable questions, and the best threshold."""
    from app.bench import answerability  # deferred: see the module docstring

    try:
        print_json(answerability.run(services(), labelled))
    except (OSError, ValueError, KeyError) as exc:
        fail(str(exc))


bench_app.command("cost")(bench_cost)
bench_app.command("retrieval")(bench_retrieval)
bench_app.command("retrieval-scale")(bench_retrieval_scale)
bench_app.command("crash")(bench_crash)
bench_app.command("actions")(bench_actions)
bench_app.command("concurrency")(bench_concurrency)
bench_app.command("throughput")(bench_throughput)
bench_app.command("review-groups")(bench_review_groups)
bench_app.command("inbox")(bench_inbox)
bench_app.command("serve")(bench_serve)
bench_app.command("redteam")(bench_redteam)
bench_app.command("answerability")(bench_answerability)
