"""Command line: `python -m app [--data-dir DIR] COMMAND ...`.

The root Typer app. Every command and sub-app is registered here, in the order `--help` lists them; each group's
commands live in their own module beside this one.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from app.cli.actions import actions_app
from app.cli.bench import bench_app
from app.cli.common import CliState, check_data_dir, settings
from app.cli.config import config_app
from app.cli.conversations import ask, ingest
from app.cli.eval import eval_app
from app.cli.governance import audit_app, killswitch_app, policy_app
from app.cli.review import review_app
from app.cli.service import db_app, serve, worker
from app.cli.shop import shop_app
from app.cli.stats import stats
from app.cli.tickets import tickets_app
from app.cli.triage import triage_app
from app.logs import configure

app = typer.Typer(help="SupportFlow: multi-agent customer support on LangGraph.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.command("ingest")(ingest)
app.command("ask")(ask)
app.command("stats")(stats)
app.add_typer(review_app, name="review")
app.add_typer(tickets_app, name="tickets")
app.add_typer(actions_app, name="actions")
app.add_typer(policy_app, name="policy")
app.add_typer(bench_app, name="bench")
app.add_typer(audit_app, name="audit")
app.add_typer(killswitch_app, name="killswitch")
app.add_typer(eval_app, name="eval")
app.add_typer(triage_app, name="triage")
app.command("serve")(serve)
app.command("worker")(worker)
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
app.add_typer(shop_app, name="shop")


@app.callback()
def main_options(
    ctx: typer.Context,
    data_dir: Path | None = typer.Option(
        None, "--data-dir",
        help="Directory for all state (Chroma, checkpoints, tickets); default: the data_dir setting "
             "(SUPPORT_DATA_DIR). Must exist, except for commands that create data (ingest, ask, serve, worker, "
             "db upgrade) or do not use it (bench, triage, config)."
    ),
) -> None:
    CliState.data_dir = data_dir
    s = settings()
    if not ctx.resilient_parsing and "--help" not in sys.argv[1:]:  # not for shell completion or `--help`
        check_data_dir(s, ctx.invoked_subcommand)
    configure(s.log_level)


def main() -> None:
    app()
