"""Governance: `policy explain|suggest|check`, `audit verify|show|export-head|reseal` and the `killswitch`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from agents.compliance import nodes as compliance
from agents.compliance.policy import PolicyError, load_policy
from app.cli.common import fail, json_option, print_json, services, to_json
from app.review.suggest import suggest
from knowledge.pii import redact

policy_app = typer.Typer(help="Policy-as-code.", no_args_is_help=True)
audit_app = typer.Typer(help="Tamper-evident audit trail.", no_args_is_help=True)
killswitch_app = typer.Typer(help="Global pause of automatic side effects.", no_args_is_help=True)


@policy_app.command("explain")
def policy_explain(
    message: str = typer.Argument(..., help="A customer message."),
    verified: bool = typer.Option(False, "--verified/--unverified", help="Is the customer's identity verified?"),
    tier: str = typer.Option("standard", help="Customer tier, e.g. standard or plus."),
    account_age_days: int | None = typer.Option(None, help="Age of the customer's account, in days."),
    policy_file: Path | None = typer.Option(None, "--policy", help="Policy file (default from settings)."),
    as_json: bool = json_option(),
) -> None:
    """Show how triage reads MESSAGE and which rule fires, and why the earlier rules did not."""
    # deferred: LangChain, LangGraph and the LLM clients (~0.8 s); keeps `--help` fast
    from agents.supervisor.conversation import MessageError, validate_message
    from agents.triage import nodes as triage

    svc = services()
    try:
        text = redact(validate_message(message))
        policy = load_policy(policy_file) if policy_file else svc.policy
    except (MessageError, PolicyError) as exc:
        fail(str(exc))
    state = {"request": text, "messages": [], "customer": {"verified": verified, "tier": tier,
                                                           "account_age_days": account_age_days}}
    state.update(triage.classify(state, svc))
    state.update(triage.enrich(state, svc))
    action, facts = compliance.propose_action(state), compliance.facts(state, svc)
    t = state["triage"]
    rules, decision = [], None
    for rule_id, failed in policy.explain(action, facts):
        rules.append({"rule_id": rule_id, "fires": not failed, "not_matched": list(failed)})
        if not failed:
            decision = policy.evaluate(action, facts)
            break
    if as_json:
        print_json({"triage": {k: t.get(k) for k in ("intent", "confidence", "kind", "urgency", "risk")},
                    "action": action, "policy_version": policy.version_id, "rules": rules, "decision": decision})
        return
    typer.echo(f"intent {t['intent']} ({t['confidence']:.2f}), kind {t['kind']}, urgency {t['urgency']}, "
               f"risk {t['risk']}")
    typer.echo(f"action {to_json(action, indent=None)}")
    typer.echo(f"policy {policy.version_id}")
    for r in rules:
        if r["fires"]:
            typer.echo(f"  ✔ {r['rule_id']}: FIRES → {decision['effect']} ({decision['reason']})")
        else:
            typer.echo(f"  ✘ {r['rule_id']}: not matched ({', '.join(r['not_matched'])})")


@policy_app.command("suggest")
def policy_suggest(as_json: bool = json_option(),
                   min_reviews: int = typer.Option(30, help="Fewest reviews a suggestion may rest on."),
                   approve_rate: float = typer.Option(0.95,
                                                      help="Approval rate that makes a review redundant.")) -> None:
    """Propose policy changes from the review history in the audit trail. Never edits the policy."""
    svc = services()
    found = suggest(svc.audit.entries(), svc.policy, min_reviews=min_reviews, approve_rate=approve_rate)
    if as_json:
        print_json({"policy_version": svc.policy.version_id, "suggestions": found})
        return
    if not found:
        typer.echo(f"no suggestions (policy {svc.policy.version_id}): not enough one-sided review history")
    for s in found:
        typer.echo(f"- {s['text']}\n  change: {to_json(s['change'], indent=None)}")
    if found:
        typer.echo(f"(suggestions only: {svc.settings.policy_file} was not changed)")


@policy_app.command("check")
def policy_check(file: Path = typer.Argument(..., help="The policy file (YAML) to validate."),
                 as_json: bool = json_option()) -> None:
    """Validate a policy file; errors name the file, rule and field."""
    try:
        policy = load_policy(file)
    except PolicyError as exc:
        fail(str(exc))
    if as_json:
        print_json({"file": str(file), "valid": True, "rules": len(policy.rules), "version": policy.version_id})
        return
    typer.echo(f"{file}: valid, {len(policy.rules)} rules, version {policy.version_id}")


@audit_app.command("verify")
def audit_verify(as_json: bool = json_option()) -> None:
    """Check the keyed hash chain, the head anchor and the append-only guards; exit 1 naming every problem."""
    report = services().audit.verify()
    if as_json:
        print_json({"ok": report.ok, "entries": report.entries, "anchored": report.anchored,
                    "unkeyed": report.unkeyed, "problems": list(report.problems)})
        if not report.ok:
            raise typer.Exit(1)
        return
    if report.ok:
        extra = [f"{report.unkeyed} unkeyed entries from before keyed hashes, sealed"] if report.unkeyed else []
        if report.anchored is not None and report.entries > report.anchored:
            extra.append(f"{report.entries - report.anchored} written after the head anchor, by a writer stopped "
                         "before it updated the anchor")
        suffix = f" ({'; '.join(extra)})" if extra else ""
        head = "no head anchor yet" if report.anchored is None else f"head anchored at seq {report.anchored}"
        typer.echo(f"audit trail intact: {report.entries} entries, {head}{suffix}")
        return
    for problem in report.problems:
        typer.echo(f"audit trail BROKEN: {problem}", err=True)
    raise typer.Exit(1)


@audit_app.command("export-head")
def audit_export_head() -> None:
    """Print the signed head anchor (entry count, last hash) as JSON, the document to seal outside this deployment."""
    from app.store.audit_anchor import AnchorError

    try:
        doc = services().audit.export_head()
    except AnchorError as exc:
        typer.echo(f"audit trail BROKEN: {exc}", err=True)
        raise typer.Exit(1) from None
    if doc is None:
        fail("no head anchor yet: run `audit verify`")
    print_json(doc)


@audit_app.command("reseal")
def audit_reseal(actor: str = typer.Option(..., help="Who reseals."),
                 reason: str = typer.Option(..., help="Why: a restored backup, a lost anchor file, …"),
                 as_json: bool = json_option()) -> None:
    """Anchor the current end of an intact chain after a restore or a lost anchor; the reseal itself is audited."""
    from app.store.audit import AuditError

    if not actor.strip() or not reason.strip():
        fail("--actor and --reason must not be empty")
    try:
        report = services().audit.reseal(actor, reason)
    except AuditError as exc:
        fail(str(exc), code=1)
    if as_json:
        print_json({"ok": report.ok, "anchored": report.anchored, "actor": actor, "problems": list(report.problems)})
    else:
        typer.echo(f"audit head resealed at seq {report.anchored} by {actor}")
    for problem in report.problems:  # e.g. a guard still missing: resealing does not repair it
        typer.echo(f"audit trail BROKEN: {problem}", err=True)
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("show")
def audit_show(thread_id: str = typer.Argument(..., help="The conversation's thread id."),
               as_json: bool = json_option()) -> None:
    """The story of one conversation, in order (a reviewer's note under its decision)."""
    entries = services().audit.entries(thread_id)
    if not entries:
        fail(f"no audit entries for thread {thread_id!r}")
    if as_json:
        print_json(entries)
        return
    for e in entries:
        ts = datetime.fromtimestamp(e["ts"], UTC).strftime("%Y-%m-%d %H:%M:%S")
        extra = f" [{e['model']}, {e['tokens']} tokens]" if e["model"] else ""
        typer.echo(f"{ts}  #{e['seq']:<5} {e['actor']:<22} {e['event']:<16} {e['reason']}{extra}")
        note = ((e.get("evidence") or {}).get("review") or {}).get("note")
        if note:
            typer.echo(f"{'':<29}note: {note}")


KS_ACTOR = typer.Option(..., help="Who does it (recorded in the audit trail).")


@killswitch_app.command("on")
def killswitch_on(actor: str = KS_ACTOR, reason: str = typer.Option(..., help="Why (recorded in the audit trail)."),
                  as_json: bool = json_option()) -> None:
    """Pause automatic side effects: every action needs human review until switched off."""
    svc = services()
    svc.controls.set_kill_switch(True, actor, reason)
    _switched(svc, as_json, "kill switch ON: every action now needs human review")


@killswitch_app.command("off")
def killswitch_off(actor: str = KS_ACTOR, reason: str = typer.Option("", help="Why (recorded in the audit trail)."),
                   as_json: bool = json_option()) -> None:
    """Resume: the policy applies as written."""
    svc = services()
    svc.controls.set_kill_switch(False, actor, reason)
    _switched(svc, as_json, "kill switch OFF: policy applies as written")


@killswitch_app.command("status")
def killswitch_status(as_json: bool = json_option()) -> None:
    """Whether the kill switch is on, who set it and why."""
    state = services().controls.kill_switch()
    if as_json:
        print_json(state)
        return
    line = f"kill switch: {'ON' if state.get('on') else 'off'}"
    if state.get("actor"):
        at = datetime.fromtimestamp(state["at"], UTC).strftime("%Y-%m-%d %H:%M UTC") if state.get("at") else "?"
        line += f" (set by {state['actor']} at {at}" + (f": {state['reason']})" if state.get("reason") else ")")
    typer.echo(line)


def _switched(svc, as_json: bool, text: str) -> None:
    if as_json:
        print_json(svc.controls.kill_switch())
    else:
        typer.echo(text)
