"""The `tickets` CLI as a user runs it, a process per command: reading needs no token; every change is a team
member's, proven by their token (SUPPORT_REVIEWER_TOKEN or --token, as `ingest` takes) and held to their queues
(app/ticket_scope.py). A refusal exits 77 (not permitted) or 2 (bad input, a move the lifecycle forbids) and records
nothing. On main `--actor` was any string: "lead" assigned tickets and the audit trail said agent:lead."""

from __future__ import annotations

import json

import pytest

from app.desk import SupportDesk
from app.services import Services
from tests.helpers import make_settings, run_cli
from tests.system.test_ticket_lifecycle import escalated

pytestmark = pytest.mark.slow


def token_of(who: str) -> dict:
    return {"SUPPORT_REVIEWER_TOKEN": f"demo-{who}"}  # the demo registry's tokens


def test_tickets_cli(data_dir):
    d = SupportDesk(services=Services.from_settings(make_settings(data_dir)))
    try:
        t = escalated(d)  # customer-care: worked by the supervisors only (ana, max)
    finally:
        d.close()

    listed = run_cli(data_dir, "tickets", "list", "--json", "--status", "open")
    assert listed.returncode == 0, listed.stderr
    assert [r["id"] for r in json.loads(listed.stdout)] == [t["id"]]
    for args, env, code, why in (
        (("assign", "--to", "ana", "--actor", "lead"), token_of("lead"), 77, "not permitted: unknown reviewer"),
        (("assign", "--to", "ana", "--actor", "max"), token_of("ana"), 77, "unknown reviewer or wrong token"),
        (("note", "--message", "x", "--actor", "max"), {}, 2, "Missing option '--token'"),
        (("assign", "--to", "nobody", "--actor", "max"), token_of("max"), 2, "unknown person 'nobody'; people who"),
        (("assign", "--to", "queue:nowhere", "--actor", "max"), token_of("max"), 2, "unknown queue 'nowhere'; queues:"),
        (("status", "--to", "closed", "--actor", "bo"), token_of("bo"), 77, "queue 'customer-care' and 'bo' works"),
        (("reply", "--message", "Done!", "--status", "solved", "--actor", "sam"), token_of("sam"), 77, "supervisor"),
    ):
        refused = run_cli(data_dir, "tickets", args[0], t["id"], *args[1:], env=env)
        assert refused.returncode == code and why in refused.stderr, (args, refused.returncode, refused.stderr)
        assert "Traceback" not in refused.stderr
    ok = run_cli(data_dir, "tickets", "assign", t["id"], "--to", "ana", "--actor", "max", "--token", "demo-max")
    assert ok.returncode == 0, ok.stderr
    assert "assign by max" in ok.stdout and "assignee ana" in ok.stdout
    ana = token_of("ana")
    ok = run_cli(data_dir, "tickets", "note", t["id"], "--actor", "ana", "--message", "internal only", "--json",
                 env=ana)
    assert ok.returncode == 0 and json.loads(ok.stdout)["kind"] == "note"
    ok = run_cli(data_dir, "tickets", "reply", t["id"], "--actor", "ana", "--message", "Sorted, see you!",
                 "--status", "solved", "--json", env=ana)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ticket"]["status"] == "solved"

    bad = run_cli(data_dir, "tickets", "status", t["id"], "--to", "open", "--actor", "ana", env=ana)
    assert bad.returncode == 2 and "error: cannot move a solved ticket to open" in bad.stderr
    missing = run_cli(data_dir, "tickets", "show", "T-NOPE")
    assert missing.returncode == 2 and "error: unknown ticket 'T-NOPE'" in missing.stderr
    bad_status = run_cli(data_dir, "tickets", "list", "--status", "done")
    assert bad_status.returncode == 2 and "error: unknown status 'done'" in bad_status.stderr
    ok = run_cli(data_dir, "tickets", "status", t["id"], "--to", "closed", "--actor", "ana", "--reason", "done",
                 env=ana)
    assert ok.returncode == 0, ok.stderr

    shown = run_cli(data_dir, "tickets", "show", t["id"])
    assert shown.returncode == 0, shown.stderr
    assert "closed" in shown.stdout and "reply  ana: Sorted, see you!" in shown.stdout
    full = json.loads(run_cli(data_dir, "tickets", "show", t["id"], "--json").stdout)
    assert [(e["kind"], e["actor"]) for e in full["events"]] == [("assign", "max"), ("note", "ana"),
                                                                  ("reply", "ana"), ("status", "ana")]
    assert full["first_response_s"] is not None and full["resolution_s"] is not None

    d = SupportDesk(services=Services.from_settings(make_settings(data_dir)))
    try:
        assert d.history(t["thread_id"])[-1]["content"] == "Sorted, see you!"
        story = [(e["event"], e["actor"]) for e in d.services.audit.entries(t["thread_id"]) if e["agent"] == "tickets"]
        assert story == [("ticket_assigned", "agent:max"), ("ticket_note", "agent:ana"),
                         ("ticket_reply", "agent:ana"), ("ticket_status", "agent:ana")]  # no refusal left a trace
    finally:
        d.close()
    helped = run_cli(data_dir, "tickets", "reply", "--help")
    assert "--message" in helped.stdout and "public reply" in helped.stdout
    assert "SUPPORT_REVIEWER_TOKEN" in helped.stdout
