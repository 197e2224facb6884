"""Red-team probes on what lies under the desk: the audit trail's tamper evidence, personal data in storage,
hostile input sizes and shapes, and a script's process lifecycle (issue #19 items 6 to 9).

The audit attacker writes the database through a connection of its own, knows the old unkeyed hash formula and
puts the append-only triggers back when done, but holds neither the secret key nor the head anchor file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from contextlib import closing

from app.bench import NO_SYSTEMS, NO_SYSTEMS_ENV, ROOT
from app.bench.redteam_probes import BIG, MID, Ctx, ProbeFailed, check, nested, refund_text, refused, tickets

N = 30
TRIGGERS = {
    "audit_no_update": "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit\n"
                       "BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END",
    "audit_no_delete": "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit\n"
                       "BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END",
}
_FIELDS = ("key", "ts", "thread_id", "agent", "actor", "event", "reason", "evidence", "model", "tokens")


# ---- audit: tampering is detected ---------------------------------------------------------------------------
def _trail(ctx: Ctx):
    """A fresh trail of N entries in its own SQLite file and anchor, keyed like the deployment's."""
    from app.settings import Settings
    from app.store.audit import AuditLog

    own = ctx.data_dir / f"audit-{len(ctx.scratch)}"
    ctx.scratch.append(own)
    settings = Settings(**NO_SYSTEMS, data_dir=own, offline=True)
    audit = AuditLog(settings.store_target, settings=settings)
    for i in range(N):
        audit.record(f"t{i % 3}:{i}:triage", f"t{i % 3}", "triage", "triage", f"reason {i}")
    check(audit.verify().ok, "an honest trail does not verify")
    return audit


def _tamper(audit, *sql: str, guards: bool = True) -> None:
    with closing(sqlite3.connect(audit.db.target, isolation_level=None)) as c:
        if guards:
            for name in TRIGGERS:
                c.execute(f"DROP TRIGGER {name}")
        for statement in sql:
            c.execute(statement)
        if guards:
            for statement in TRIGGERS.values():
                c.execute(statement)


def _detected(audit, word: str = "") -> None:
    report = audit.verify()
    check(not report.ok, "tampering went unnoticed")
    check(word in "\n".join(report.problems), report.problems)


def _plain_hash(prev: str, row: dict) -> str:
    body = json.dumps({f: row[f] for f in _FIELDS}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev + body).encode()).hexdigest()


def deleted(k: int | None):
    def probe(ctx: Ctx) -> None:
        audit = _trail(ctx)
        _tamper(audit, f"DELETE FROM audit WHERE seq > {N - k}" if k else "DELETE FROM audit")
        _detected(audit, "truncated")
    return probe


def _rows(audit) -> list[dict]:
    """The trail's rows as stored, oldest first, read the way the attacker reads them."""
    with closing(sqlite3.connect(audit.db.target)) as c:
        c.row_factory = sqlite3.Row
        return [dict(r) for r in c.execute("SELECT * FROM audit ORDER BY seq")]


def audit_forged_append(ctx: Ctx) -> None:
    audit = _trail(ctx)
    last = _rows(audit)[-1]
    forged = {**last, "seq": N + 1, "key": "t0:99:review", "event": "review", "actor": "reviewer:max",
              "reason": "approved", "prev_hash": last["hash"]}
    forged["hash"] = _plain_hash(last["hash"], forged)
    _tamper(audit, f"INSERT INTO audit ({', '.join(forged)}) VALUES ({', '.join(map(repr_sql, forged.values()))})",
            guards=False)
    _detected(audit, f"seq {N + 1}")


def repr_sql(value) -> str:
    return "NULL" if value is None else str(value) if isinstance(value, int | float) else \
        "'" + str(value).replace("'", "''") + "'"


def audit_edited_and_rehashed(ctx: Ctx) -> None:
    audit = _trail(ctx)
    rows = _rows(audit)
    prev, sql = rows[4]["prev_hash"], []
    for r in rows[4:]:
        r["reason"] = "forged" if r["seq"] == 5 else r["reason"]
        r["prev_hash"], r["hash"] = prev, _plain_hash(prev, r)
        prev = r["hash"]
        sql.append(f"UPDATE audit SET reason = {repr_sql(r['reason'])}, prev_hash = '{r['prev_hash']}', "
                   f"hash = '{r['hash']}' WHERE seq = {r['seq']}")
    _tamper(audit, *sql)
    _detected(audit, "seq 5")


def audit_guards_disabled(ctx: Ctx) -> None:
    audit = _trail(ctx)
    _tamper(audit, *(f"DROP TRIGGER {name}" for name in TRIGGERS),
            *(s.replace("ON audit\n", "ON audit WHEN 0\n") for s in TRIGGERS.values()), guards=False)
    _detected(audit, "re-created differently")


def audit_anchor_edited(ctx: Ctx) -> None:
    audit = _trail(ctx)
    doc = json.loads(audit.anchor.path.read_text())
    audit.anchor.path.write_text(json.dumps({**doc, "entries": N - 5}))
    _detected(audit, "signature invalid")


# ---- personal data: every format kept out of storage ----------------------------------------------------------
PII_FORMATS = [
    "4111.1111.1111.1111", "4111/1111/1111/1111", "4111 1111 1111 1111", "4111-1111-1111-1111",
    "4155550134", "+44 20 7946 0958", "+49 30 12345678", "+1 (415) 555-0134", "415.555.0134",
    "de89370400440532013000", "DE89-3704-0044-0532-0130-00", "GB82 WEST 1234 5698 7654 32",
    "123 45 6789", "123.45.6789", "123-45-6789",
    "jane dot roe at example dot com", "jane.roe@example.com", "jane (at) example (dot) com",
]


def pii_format(value: str):
    def probe(ctx: Ctx) -> None:
        from knowledge.pii import redact

        redacted = redact(f"my details: {value} thanks")
        check(value not in redacted, redacted)
    return probe


def pii_in_checkpoints_and_tickets(ctx: Ctx) -> None:
    secrets = ["4111.1111.1111.1111", "+44 20 7946 0958", "de89370400440532013000", "123 45 6789"]
    tid = ctx.thread("pii")
    ctx.desk.send(f"Refund $20 for order #48213, card {secrets[0]}, call {secrets[1]}, IBAN {secrets[2]}, "
                  f"SSN {secrets[3]}", thread_id=tid)
    blob = json.dumps([t["summary"] for t in tickets(ctx.desk, tid)])
    with closing(sqlite3.connect(ctx.desk.services.settings.checkpoint_db)) as c:
        for sql in ("SELECT checkpoint FROM checkpoints", "SELECT value FROM writes"):
            blob += b"".join(bytes(r[0]) for r in c.execute(sql) if r[0] is not None).decode("latin-1")
    blob += "".join(json.dumps(e) for e in ctx.desk.services.audit.entries(tid))
    check(not [s for s in secrets if s in blob])


# ---- fuzz: hostile sizes and shapes ---------------------------------------------------------------------------
def fuzz_deep_nesting(ctx: Ctx) -> None:
    from app.desk import ReviewPayloadError

    tid = ctx.desk.send(MID, thread_id=ctx.thread()).thread_id
    refused(lambda: ctx.desk.resume(tid, {"decisions": [{"type": "approve", "reviewer": "ana",
                                                         "note": nested(5000)}]}), ReviewPayloadError)
    refused(lambda: ctx.desk.edit(tid, reviewer="ana", args={"amount": 300, "d": nested(900)}), ReviewPayloadError)
    check(ctx.desk.get(tid).pending_review and tickets(ctx.desk, tid) == [])


def fuzz_huge_edit(ctx: Ctx) -> None:
    from app.desk import ReviewPayloadError

    tid = ctx.desk.send(MID, thread_id=ctx.thread()).thread_id
    refused(lambda: ctx.desk.edit(tid, reviewer="ana", args={"amount": 300, "c": "x" * 5_000_000}),
            ReviewPayloadError)
    check(ctx.desk.get(tid).pending_review and tickets(ctx.desk, tid) == [])


def fuzz_long_digits(ctx: Ctx) -> None:
    """A 20,000-digit message took 3 s in the amount scanner (quadratic look-ahead); linear now, well under 1 s."""
    from agents.compliance.money import scan

    started = time.perf_counter()
    scan("$" + "9" * 20_000 + " refund " + "1," * 10_000)
    took = time.perf_counter() - started
    check(took < 1.0, f"{took:.2f} s")


def fuzz_invalid_utf8_thread(ctx: Ctx) -> None:
    from app.desk import InvalidThreadIdError

    refused(lambda: ctx.desk.send("refund $20 for order #1234", thread_id=os.fsdecode(b"ab\xffcd")),
            InvalidThreadIdError)


def fuzz_thread_ids_no_store_can_hold(ctx: Ctx) -> None:
    from app.desk import InvalidThreadIdError

    for bad in ("x" * 5000, "a\x00b", "line\nbreak", "   "):
        refused(lambda bad=bad: ctx.desk.send("refund $20 for order #1234", thread_id=bad), InvalidThreadIdError)


def fuzz_nan_edit_on_the_cli(ctx: Ctx) -> None:
    """`review edit --args '{"amount": NaN}'` (Python's json reads NaN) re-asked as "amount unknown" before."""
    tid = ctx.desk.send(BIG, thread_id=ctx.thread()).thread_id
    done = _cli(ctx, "review", "edit", tid, "--reviewer", "bo", "--args", '{"amount": NaN}')
    check(done.returncode not in (0, None) and "Traceback" not in done.stderr, done.stderr[-500:])
    check(_cli(ctx, "review", "approve", tid, "--reviewer", "sam").returncode != 0)
    check(tickets(ctx.desk, tid) == [] and ctx.desk.get(tid).pending_review)


def cli_parallel_asks(ctx: Ctx) -> None:
    """Five parallel `ask --thread T` processes made 3 tickets and lost 2 messages."""
    tid, env = ctx.thread("cli"), {**os.environ, "SUPPORT_OFFLINE": "true", **NO_SYSTEMS_ENV, "HF_HUB_OFFLINE": "1"}
    procs = [subprocess.Popen([sys.executable, "-m", "app", "--data-dir", str(ctx.data_dir), "ask", refund_text(i),
                               "--thread", tid, "--json"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(5)]
    outs = [p.communicate(timeout=600) for p in procs]
    check([p.returncode for p in procs] == [0] * 5, [err[-300:] for _, err in outs])
    by_id = {t["id"]: t for t in tickets(ctx.desk, tid)}
    answers = [json.loads(out) for out, _ in outs]
    check(len(by_id) == 5 and {a["ticket_id"] for a in answers} == set(by_id))
    for i, a in enumerate(answers):
        check(by_id[a["ticket_id"]]["action"]["args"]["order_id"] == str(70000 + i), (i, a.get("answer")))


def _cli(ctx: Ctx, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "SUPPORT_OFFLINE": "true", **NO_SYSTEMS_ENV, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "app", "--data-dir", str(ctx.data_dir), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def fuzz_nan_json(ctx: Ctx) -> None:
    script = "from app.cli.common import print_json; print_json({'a': float('nan'), 'b': [float('inf')], 'c': 1})"
    out = _python(script, timeout=120)

    def strict(constant):
        raise ProbeFailed(f"non-standard JSON constant {constant}")

    check(json.loads(out.stdout, parse_constant=strict) == {"a": None, "b": [None], "c": 1})


# ---- async lifecycle ------------------------------------------------------------------------------------------
def async_script_exits(ctx: Ctx) -> None:
    script = textwrap.dedent(f"""
        import asyncio
        from app.desk import SupportDesk
        from app.services import Services
        from app.settings import Settings
        desk = SupportDesk(services=Services.from_settings(Settings(connectors_mode="off",
                                                                    data_dir={str(ctx.data_dir)!r}, offline=True)))
        async def main():
            r = await desk.asend("Please refund $20 for order #48213", thread_id="exit-probe")
            print("SENT", r.outcome, flush=True)
        asyncio.run(main())
    """)
    check("SENT" in _python(script, timeout=240).stdout)


def async_context_manager(ctx: Ctx) -> None:
    import asyncio

    from app.desk import SupportDesk

    async def main():
        async with SupportDesk(services=ctx.desk.services) as desk:
            return (await desk.asend("Please refund $20 for order #48213", thread_id=ctx.thread("async"))).outcome

    check(asyncio.run(main()) == "ticket_created")


def _python(script: str, timeout: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "SUPPORT_OFFLINE": "true", **NO_SYSTEMS_ENV, "HF_HUB_OFFLINE": "1"}
    try:  # the timeout guards against the hang the probe is about
        done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise ProbeFailed(f"the script did not exit within {timeout:.0f} s") from exc
    check(done.returncode == 0, done.stderr[-1000:])
    return done

