"""`python -m app eval ...`: run a scenario suite, score it, optionally shadow a candidate configuration."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from agents.compliance.policy import PolicyError
from agents.compliance.reviewers import ReviewerError, registry_for
from agents.triage.taxonomy import TaxonomyError
from app.cli.common import desk, fail, json_option, print_json, services, settings, to_json
from app.eval.data import ScenarioFileError, load_scenarios, summary_path, write_jsonl
from app.eval.report import render
from app.eval.score import score_summary
from app.eval.tau2 import Tau2Error, convert

eval_app = typer.Typer(help="Scenario evaluation and shadow runs.", invoke_without_command=True,
                       pretty_exceptions_enable=False)


@eval_app.callback()
def eval_run(
    ctx: typer.Context,
    scenarios: Path | None = typer.Option(None, "--scenarios", help="JSONL: {id, message, customer?, turns?, expect?} "
                                          "or per turn {id, customer?, turns: [{message, expect}]}"),
    out: Path | None = typer.Option(None, "--out", help="Results JSONL (summary JSON is written beside it)."),
    review: str = typer.Option("leave", "--review", help="Paused threads: approve | reject | leave (pending)."),
    reviewer: str | None = typer.Option(None, "--reviewer", help="Who approves/rejects (a reviewer id from the "
                                        "registry); required with --review approve|reject."),
    shadow: Path | None = typer.Option(None, "--shadow", help="Candidate settings overrides (YAML/JSON); "
                                       "default SUPPORT_SHADOW_CONFIG."),
    sandbox: bool = typer.Option(False, "--sandbox", help="Run on a temporary copy of the data dir (no live tickets)."),
    shop: Path | None = typer.Option(None, "--shop", help="A shop fixture (docs/shop.md) to run against: seeded "
                                     "into the sandbox's own sample shop, connectors live there (implies --sandbox). "
                                     "Without it no company system is connected during an eval."),
    split: str | None = typer.Option(None, "--split", help="Only scenarios marked with this split (e.g. dev, val)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar on stderr."),
    as_json: bool = json_option(),
) -> None:
    """Run every scenario in its own thread against the configured data directory and score it."""
    if ctx.invoked_subcommand:
        return
    if scenarios is None or out is None:
        fail("--scenarios FILE and --out FILE are required (or use a subcommand, e.g. `eval tau2`)")
    # deferred: the suite runner and the shadow load LangGraph and the services stack (~1 s); keeps `--help` fast
    from app.eval.run import REVIEW_MODES, new_run_id
    from app.eval.shadow import ShadowConfigError, load_overrides, render_differences, sandbox_services

    if review not in REVIEW_MODES:
        fail(f"--review must be one of {', '.join(REVIEW_MODES)}")
    if review != "leave":  # decide with a real, registered identity or not at all: no anonymous bot approvals
        if not reviewer:
            fail(f"--review {review} needs --reviewer ID (a reviewer from the registry)")
        try:
            registry_for(settings()).get(reviewer)
        except ReviewerError as exc:
            fail(str(exc))
    try:
        suite = load_scenarios(scenarios, split=split)
        shadow = shadow or settings().shadow_config
        overrides = load_overrides(shadow) if shadow else None
    except (ScenarioFileError, ShadowConfigError) as exc:
        fail(str(exc))
    if shop is not None and not shop.is_file():
        fail(f"--shop {shop}: no such file")
    run_id = new_run_id()
    live = services()
    # An eval never acts in the live company systems: live connectors only against its own seeded shop.
    live.settings = live.settings.model_copy(update={"connectors_mode": "off"})
    progress = progress and sys.stderr.isatty()
    if sandbox or shop is not None:
        with sandbox_services(live, {"connectors_mode": "live"} if shop else None) as svc:
            if shop is not None:
                _seed(svc, shop)
            results, shadow_report = _run(svc, suite, review, reviewer, run_id, progress, overrides,
                                          own_customers=shop is not None)
    else:
        results, shadow_report = _run(live, suite, review, reviewer, run_id, progress, overrides)
    write_jsonl(out, results)
    summary = {"run_id": run_id, "data_dir": str(live.settings.data_dir), "review_mode": review, "reviewer": reviewer,
               "sandbox": sandbox, "split": split, **score_summary(results, suite)}
    summary_path(out).write_text(to_json(summary), encoding="utf-8")
    if as_json:
        print_json({**summary, "shadow": shadow_report})
    else:
        render(summary)
    typer.echo(f"results: {out}  summary: {summary_path(out)}  threads: eval-{run_id}-<id>", err=True)
    if shadow_report is not None:
        path = out.with_name(out.stem + ".shadow.json")
        path.write_text(to_json(shadow_report), encoding="utf-8")
        if not as_json:
            render_differences(shadow_report)
        typer.echo(f"shadow report: {path}", err=True)


def _seed(svc, fixture: Path) -> None:
    """The sandbox's own shop, holding exactly the fixture (the sample shop's seed command, as a user runs it)."""
    import subprocess

    done = subprocess.run([sys.executable, "-m", "app.shop", "seed", str(fixture), "--db", str(svc.settings.shop_path),
                           "--replace"], capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"--shop {fixture}: {(done.stderr or done.stdout).strip()[-2000:]}")


def _run(svc, suite, review, reviewer, run_id, progress, overrides, own_customers: bool = False
         ) -> tuple[list[dict], dict | None]:
    """Live results, then (with a candidate) the shadow report from the same inputs."""
    from app.eval.run import run_suite  # deferred: as in eval_run
    from app.eval.shadow import run_shadow

    live_desk = desk(svc)
    try:
        results = run_suite(live_desk, suite, review=review, run_id=run_id, progress=progress, reviewer=reviewer,
                            own_customers=own_customers)
        report = None
        if overrides is not None:
            try:
                report = run_shadow(live_desk, suite, review, run_id, overrides, results, progress, reviewer)
            except (PolicyError, TaxonomyError) as exc:
                fail(f"candidate configuration: {exc}")
        return results, report
    finally:
        live_desk.close()


@eval_app.command("tau2")
def eval_tau2(
    tasks: Path = typer.Argument(..., help="tau2-bench tasks file, e.g. ../shared/data/tau2/retail/tasks_train.json"),
    out: Path = typer.Option(..., "--out", help="Scenario JSONL to write."),
    as_json: bool = json_option(),
) -> None:
    """Convert tau2-bench tasks into a scenario file (expected outcome from the task's actions)."""
    try:
        rows = convert(tasks)
    except Tau2Error as exc:
        fail(str(exc))
    n = write_jsonl(out, rows)
    if as_json:
        print_json({"scenarios": n, "out": str(out)})
        return
    typer.echo(f"wrote {n} scenarios to {out}")
