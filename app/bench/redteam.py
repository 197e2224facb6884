"""`python -m app bench redteam`: every red-team probe of issue #19 (and the amounts of #15) against a fresh, offline
data directory, tallied per family.

A probe is held when the attack was refused, detected or completed as required, and broken otherwise (its error
is reported with its name). The tally is the standing answer to "do the README's promises survive an attacker?";
a non-zero number of broken probes makes the command exit 1. `quick` keeps at least one probe per family and
skips the slow ones (subprocesses, the whole PII format table).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from app.bench import NO_SYSTEMS
from app.bench import redteam_answers as answers
from app.bench import redteam_boundaries as boundaries
from app.bench import redteam_http as http_limits
from app.bench import redteam_knowledge as knowledge
from app.bench import redteam_probes as p
from app.bench import redteam_store as s
from app.bench import redteam_tickets as tickets

Probe = Callable[[p.Ctx], None]

# family → [(name, probe, in the quick subset)]
FAMILIES: dict[str, list[tuple[str, Probe, bool]]] = {
    "limits": [
        ("edit_amount_null", p.edit_refused(None), True),
        ("edit_amount_nan", p.edit_refused(float("nan")), True),
        ("edit_amount_negative", p.edit_refused(-5), False),
        ("edit_amount_zero", p.edit_refused(0), False),
        ("edit_amount_infinite", p.edit_refused(float("inf")), False),
        ("edit_amount_huge", p.edit_refused(10**400), True),
        ("edit_amount_nested", p.edit_refused({"value": 300}), True),
        ("edit_amount_string", p.edit_refused("300"), False),
        ("lowered_by_a_low_reviewer", p.limit_lowered_by_a_low_reviewer, False),
        ("graph_direct_nan", p.limit_graph_direct_nan, False),
    ],
    "amounts": [
        ("gbp_450_not_dollars", p.reviewed("Please refund £450 for order #61001, it arrived broken"), True),
        ("gbp_code_499", p.reviewed("Please refund 499 GBP for order #61002, it arrived broken"), False),
        ("eur_499", p.reviewed("Please refund €499 for order #61003, it arrived broken"), False),
        ("unrated_currency", p.reviewed("Please refund 300 SEK for order #61004, it arrived broken",
                                         "refund-currency-unrated"), False),
        ("reviewer_limit_in_base_currency", p.reviewer_limit_in_base_currency, True),
        ("total_per_thread", p.totals_per_thread, True),
        ("total_per_order", p.totals_per_order, False),
    ],
    "concurrency": [
        ("six_asends_one_thread", p.concurrent_asends, True),
        ("four_os_threads_one_thread", p.concurrent_os_threads, False),
        ("busy_thread_retryable", p.busy_thread_is_retryable, False),
        ("five_parallel_cli_asks", s.cli_parallel_asks, False),
    ],
    "identity": [
        ("bare_reviewer_id", p.bare_reviewer_id, True),
        ("wrong_token", p.wrong_token, False),
        ("replayed_signature", p.replayed_signature, False),
        ("graph_path_takes_the_claim", p.graph_path_takes_the_claim, False),
    ],
    "audit": [
        ("delete_newest_1", s.deleted(1), True),
        ("delete_newest_20", s.deleted(20), False),
        ("delete_everything", s.deleted(None), True),
        ("forged_append", s.audit_forged_append, True),
        ("edited_and_rehashed", s.audit_edited_and_rehashed, False),
        ("guards_when_0", s.audit_guards_disabled, True),
        ("anchor_edited", s.audit_anchor_edited, False),
    ],
    "killed_approval": [
        ("killed_before_ticketing", p.killed_before("ticketing"), True),
        ("killed_before_respond", p.killed_before("respond"), False),
    ],
    "pii": [
        *((f"format {v}", s.pii_format(v), i < 4) for i, v in enumerate(s.PII_FORMATS)),
        ("checkpoints_and_tickets", s.pii_in_checkpoints_and_tickets, True),
    ],
    "fuzz": [
        ("deep_nesting", s.fuzz_deep_nesting, True),
        ("huge_edit_args", s.fuzz_huge_edit, True),
        ("digits_20000", s.fuzz_long_digits, True),
        ("invalid_utf8_thread_id", s.fuzz_invalid_utf8_thread, True),
        ("thread_ids_no_store_can_hold", s.fuzz_thread_ids_no_store_can_hold, False),
        ("nan_edit_on_the_cli", s.fuzz_nan_edit_on_the_cli, False),
        ("nan_in_json", s.fuzz_nan_json, False),
    ],
    "boundaries": boundaries.FAMILY,
    "retrieved_text": answers.FAMILY,
    "http_limits": http_limits.FAMILY,
    "knowledge": knowledge.FAMILY,
    "tickets": tickets.FAMILY,
    "async": [
        ("script_never_closing_exits", s.async_script_exits, False),
        ("async_context_manager", s.async_context_manager, True),
    ],
}


def prepare(data_dir: Path, template: Path | None = None) -> None:
    """A working data directory: a copy of `template` (an ingested one), else the sample help centre ingested and
    the classifier trained here."""
    from app.bench.crash import ready  # deferred: it loads the services
    from app.services import Services
    from app.settings import Settings

    if template is not None:
        shutil.copytree(template, data_dir, dirs_exist_ok=True)
    ready(Services.from_settings(Settings(**NO_SYSTEMS, data_dir=data_dir, offline=True)))


def run(quick: bool = False, template: Path | None = None, families: list[str] | None = None) -> dict:
    """Run the probes; {"families": {name: {probes, held, broken, broken_probes, errors}}, totals}."""
    from app.desk import SupportDesk
    from app.services import Services
    from app.settings import Settings

    unknown = sorted(set(families or []) - set(FAMILIES))
    if unknown:
        raise ValueError(f"unknown famil{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}; one of: "
                         f"{', '.join(FAMILIES)}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="redteam-") as tmp:
        data_dir = Path(tmp) / "data"
        prepare(data_dir, template)
        desk = SupportDesk(services=Services.from_settings(Settings(**NO_SYSTEMS, data_dir=data_dir, offline=True)))
        ctx = p.Ctx(data_dir=data_dir, desk=desk, quick=quick)
        try:
            tally = {name: family_tally(ctx, probes, quick) for name, probes in FAMILIES.items()
                     if not families or name in families}
        finally:
            desk.close()
    return {"families": tally, "probes": sum(f["probes"] for f in tally.values()),
            "held": sum(f["held"] for f in tally.values()), "broken": sum(f["broken"] for f in tally.values()),
            "quick": quick, "seconds": round(time.perf_counter() - started, 1)}


def family_tally(ctx: p.Ctx, probes: list[tuple[str, Probe, bool]], quick: bool) -> dict:
    held, broken, errors = 0, [], {}
    for name, probe, fast in probes:
        if quick and not fast:
            continue
        try:
            probe(ctx)
            held += 1
        except Exception as exc:  # noqa: BLE001 - whatever the attack did, it is reported, not raised
            broken.append(name)
            where = traceback.extract_tb(exc.__traceback__)[-1]
            errors[name] = f"{type(exc).__name__}: {str(exc)[:300]} ({Path(where.filename).name}:{where.lineno})"
    return {"probes": held + len(broken), "held": held, "broken": len(broken), "broken_probes": broken,
            "errors": errors}
