"""Red team, issue #19 item 6: `audit verify` must notice tampering by someone who can write the database but holds
neither the secret key nor the head anchor file.

Every attack runs against a real SQLite file and a real PostgreSQL database, through a connection of the attacker's
own. The attacker knows the unkeyed hash formula of the old chain and puts the append-only guards back when done, so
the chain's keys and the head anchor, not the triggers, must catch what the triggers let through.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import threading
from contextlib import contextmanager

import pytest
from pydantic import SecretStr

from app.store.audit import AuditLog
from tests.helpers import ROOT, make_settings, run_cli

SQLITE_TRIGGERS = {  # what the app creates; an attacker restores exactly this after tampering
    "audit_no_update": "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit\n"
                       "BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END",
    "audit_no_delete": "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit\n"
                       "BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END",
}
PG_RESTORE = "ALTER TABLE audit ENABLE ALWAYS TRIGGER audit_no_update, ENABLE ALWAYS TRIGGER audit_no_truncate"
N = 30


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request, tmp_path):
    backend = {} if request.param == "sqlite" else {"database_url": request.getfixturevalue("pg_url")}
    return make_settings(tmp_path / "data", **backend)


def open_trail(settings) -> AuditLog:
    return AuditLog(settings.store_target, settings=settings)


def written(settings) -> AuditLog:
    audit = open_trail(settings)
    for i in range(N):
        assert audit.record(f"t{i % 3}:{i}:triage", f"t{i % 3}", "triage", "triage", f"reason {i}")
    assert audit.verify().ok
    return audit


@pytest.fixture
def trail(settings) -> AuditLog:
    return written(settings)


@pytest.fixture
def sqlite_trail(tmp_path) -> AuditLog:
    return written(make_settings(tmp_path / "data"))


@pytest.fixture
def pg_trail(tmp_path, pg_url) -> AuditLog:
    return written(make_settings(tmp_path / "data", database_url=pg_url))


@contextmanager
def attacker(audit: AuditLog, bypass: bool = True):
    """A connection of the attacker's own; with `bypass`, the guards are off inside and restored as they were."""
    if audit.db.postgres:
        import psycopg

        with psycopg.connect(audit.db.target, autocommit=True) as c:
            if bypass:
                c.execute("ALTER TABLE audit DISABLE TRIGGER USER")
            yield c
            if bypass:
                c.execute(PG_RESTORE)
        return
    c = sqlite3.connect(audit.db.target, isolation_level=None)
    try:
        if bypass:
            for name in SQLITE_TRIGGERS:
                c.execute(f"DROP TRIGGER {name}")
        yield c
        if bypass:
            for sql in SQLITE_TRIGGERS.values():
                c.execute(sql)
    finally:
        c.close()


def plain_hash(prev: str, row: dict) -> str:
    """The old, unkeyed entry hash: anyone who read the source can recompute it."""
    fields = ("key", "ts", "thread_id", "agent", "actor", "event", "reason", "evidence", "model", "tokens")
    body = json.dumps({f: row[f] for f in fields}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev + body).encode()).hexdigest()


def rows_of(c, audit: AuditLog) -> list[dict]:
    cur = c.execute("SELECT seq, key, ts, thread_id, agent, actor, event, reason, evidence, model, tokens, prev_hash, "
                    "hash FROM audit ORDER BY seq")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def broken(audit: AuditLog, *words: str) -> str:
    report = audit.verify()
    assert not report.ok, "tampering went unnoticed"
    text = "\n".join(report.problems)
    for word in words:
        assert word in text, text
    return text


# ---- truncation ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 20, N])
def test_deleting_the_newest_entries_is_detected(trail, k):
    with attacker(trail) as c:
        c.execute(f"DELETE FROM audit WHERE seq > {N - k}")
    broken(trail, "truncated", f"vouches for {N} entries", f"ends at seq {N - k}")


def test_truncate_on_postgres_is_refused_and_detected(pg_trail):
    import psycopg

    trail = pg_trail

    with attacker(trail, bypass=False) as c, pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        c.execute("TRUNCATE audit")
    with attacker(trail) as c:
        c.execute("TRUNCATE audit")
    assert trail.entries() == []
    broken(trail, "truncated", "ends at seq 0")


def test_a_reopened_store_after_deleting_everything_is_still_broken(trail, settings):
    """Opening the store again (a restarted process) must not take the empty table for a fresh one."""
    with attacker(trail) as c:
        c.execute("DELETE FROM audit")
    broken(open_trail(settings), "truncated")


# ---- forgery ---------------------------------------------------------------------------------------------------
def test_an_appended_entry_with_a_recomputed_hash_is_detected(trail):
    """INSERT is allowed by the guards: a forger appends an entry chained with the plain SHA-256 formula."""
    with attacker(trail, bypass=False) as c:
        last = rows_of(c, trail)[-1]
        forged = {**last, "seq": N + 1, "key": "t0:99:review", "event": "review", "actor": "reviewer:max",
                  "reason": "approved", "prev_hash": last["hash"]}
        forged["hash"] = plain_hash(last["hash"], forged)
        cols = list(forged)
        marks = ", ".join(["%s" if trail.db.postgres else "?"] * len(cols))
        c.execute(f"INSERT INTO audit ({', '.join(cols)}) VALUES ({marks})", list(forged.values()))
    broken(trail, f"seq {N + 1}")


@pytest.mark.parametrize("target", [5, N])
def test_an_edited_entry_with_the_chain_rehashed_is_detected(trail, target):
    """The forger edits one entry and recomputes its hash and every later one with the plain SHA-256 formula."""
    with attacker(trail) as c:
        rows = rows_of(c, trail)
        prev = rows[target - 1]["prev_hash"]
        for r in rows[target - 1:]:
            if r["seq"] == target:
                r["reason"] = "forged"
            r["prev_hash"], r["hash"] = prev, plain_hash(prev, r)
            prev = r["hash"]
            mark = "%s" if trail.db.postgres else "?"
            c.execute(f"UPDATE audit SET reason = {mark}, prev_hash = {mark}, hash = {mark} WHERE seq = {mark}",
                      (r["reason"], r["prev_hash"], r["hash"], r["seq"]))
    assert trail.verify().seq == target
    broken(trail, f"seq {target}")


def test_an_edited_anchor_or_a_missing_one_is_detected(trail):
    doc = json.loads(trail.anchor.path.read_text())
    trail.anchor.path.write_text(json.dumps({**doc, "entries": N - 5}))
    broken(trail, "signature invalid")
    trail.anchor.path.unlink()
    broken(trail, "missing")


def test_another_key_does_not_verify(trail, settings):
    other = settings.model_copy(update={"secret_key": SecretStr("not-the-deployment-key")})
    text = broken(open_trail(other), "seq 1")
    assert "keyed hash" in text and "signature invalid" in text


# ---- disabled guards -------------------------------------------------------------------------------------------
def test_sqlite_triggers_recreated_to_never_fire_are_detected(sqlite_trail):
    trail = sqlite_trail
    with attacker(trail, bypass=False) as c:
        for name, sql in SQLITE_TRIGGERS.items():
            c.execute(f"DROP TRIGGER {name}")
            c.execute(sql.replace("ON audit\n", "ON audit WHEN 0\n"))
    broken(trail, "audit_no_update was re-created differently", "audit_no_delete was re-created differently")
    with attacker(trail, bypass=False) as c:
        c.execute(f"DELETE FROM audit WHERE seq > {N - 3}")  # the guard lets it through now
    broken(trail, "truncated", "WHEN 0")


def test_postgres_guards_disabled_or_defanged_are_detected(pg_trail):
    trail = pg_trail
    with attacker(trail, bypass=False) as c:
        c.execute("ALTER TABLE audit DISABLE TRIGGER audit_no_update")
    broken(trail, "audit_no_update is disabled")
    with attacker(trail, bypass=False) as c:
        c.execute(PG_RESTORE)
        c.execute("CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                  "$$ BEGIN RETURN OLD; END $$")
    broken(trail, "no longer refuses")


def test_session_replication_role_replica_neither_deletes_nor_hides(pg_trail):
    import psycopg

    trail = pg_trail

    with attacker(trail, bypass=False) as c:
        c.execute("SET session_replication_role = replica")
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            c.execute(f"DELETE FROM audit WHERE seq > {N - 3}")
    assert trail.verify().ok
    # an attacker who first puts the guards back to plain ENABLE (skipped by replica sessions), then restores them
    with attacker(trail, bypass=False) as c:
        c.execute("ALTER TABLE audit ENABLE TRIGGER audit_no_update, ENABLE TRIGGER audit_no_truncate")
        c.execute("SET session_replication_role = replica")
        c.execute(f"DELETE FROM audit WHERE seq > {N - 3}")
        broken(trail, "truncated", "session_replication_role")
        c.execute(PG_RESTORE)
    broken(trail, "truncated")


# ---- honest histories verify ------------------------------------------------------------------------------------
def test_concurrent_writers_in_threads_keep_the_trail_intact(settings):
    audit = open_trail(settings)
    errors: list[BaseException] = []

    def write(name: str) -> None:
        try:
            mine = open_trail(settings)
            for i in range(40):
                mine.record(f"{name}:{i}", name, "triage", "triage", f"{name} {i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f"w{n}",)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    report = audit.verify()
    assert report.ok, report.problems
    assert report.entries == report.anchored == 80


WRITER = """
import sys
from app.settings import Settings
from app.store.audit import AuditLog
settings = Settings(data_dir=sys.argv[1], database_url=sys.argv[2] or None)
audit = AuditLog(settings.store_target, settings=settings)
for i in range(25):
    audit.record(f"{sys.argv[3]}:{i}", sys.argv[3], "triage", "triage", "r")
"""


@pytest.mark.slow
def test_concurrent_writer_processes_keep_the_trail_intact(settings):
    open_trail(settings)
    args = [sys.executable, "-c", WRITER, str(settings.data_dir), settings.database_url or ""]
    procs = [subprocess.Popen([*args, f"p{n}"], cwd=ROOT) for n in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    report = open_trail(settings).verify()
    assert report.ok, report.problems
    assert report.entries == report.anchored == 50


def test_entries_written_after_the_anchor_are_the_crash_window_and_accepted(trail):
    """A writer killed between its commit and the anchor write leaves the anchor behind: that is not tampering."""
    saved = trail.anchor.path.read_bytes()
    trail.record("late:1", "t0", "triage", "triage")
    trail.record("late:2", "t0", "triage", "triage")
    trail.anchor.path.write_bytes(saved)
    report = trail.verify()
    assert report.ok and report.entries == N + 2 and report.anchored == N
    trail.record("late:3", "t0", "triage", "triage")  # the next writer catches the anchor up
    assert trail.verify().anchored == N + 3


def test_an_unkeyed_trail_from_before_the_upgrade_is_sealed(settings):
    """Entries written by the old code stay verifiable; unkeyed entries after them are forgeries."""
    db_path = settings.store_target
    audit = open_trail(settings)
    with attacker(audit) as c:  # rewrite the whole trail as the old code wrote it: no hash_alg, plain SHA-256
        c.execute("DELETE FROM audit")
        c.execute("ALTER TABLE audit DROP COLUMN hash_alg")
        prev = "0" * 64
        for i in range(1, 6):
            row = {"seq": i, "key": f"old:{i}", "ts": 1.5 + i, "thread_id": "old", "agent": "triage",
                   "actor": "agent:triage", "event": "triage", "reason": f"old {i}", "evidence": "{}",
                   "model": None, "tokens": 0, "prev_hash": prev}
            row["hash"] = prev = plain_hash(prev, row)
            mark = "%s" if audit.db.postgres else "?"
            c.execute(f"INSERT INTO audit ({', '.join(row)}) VALUES ({', '.join([mark] * len(row))})",
                      list(row.values()))
    audit.anchor.path.unlink()  # the old version had none
    upgraded = AuditLog(db_path, settings=settings)
    report = upgraded.verify()
    assert report.ok and report.unkeyed == 5 and report.anchored == 5, report.problems
    upgraded.record("new:1", "new", "triage", "triage")
    assert upgraded.verify().ok
    with attacker(upgraded, bypass=False) as c:  # an unkeyed entry after the upgrade
        last = rows_of(c, upgraded)[-1]
        forged = {**last, "seq": 7, "key": "old:7", "prev_hash": last["hash"]}
        forged["hash"] = plain_hash(last["hash"], forged)
        mark = "%s" if upgraded.db.postgres else "?"
        c.execute(f"INSERT INTO audit ({', '.join(forged)}) VALUES ({', '.join([mark] * len(forged))})",
                  list(forged.values()))
    broken(upgraded, "seq 7: unkeyed entry after the trail was keyed at seq 6")


def test_reseal_after_a_restored_backup_is_audited(trail):
    with attacker(trail) as c:
        c.execute(f"DELETE FROM audit WHERE seq > {N - 4}")  # what restoring an older backup looks like
    broken(trail, "truncated")
    report = trail.reseal("operator:ana", "restored the 02:00 backup")
    assert report.ok and report.anchored == N - 3
    entry = trail.entries()[-1]
    assert entry["event"] == "audit_resealed" and entry["actor"] == "operator:ana"
    assert entry["evidence"]["previous_anchor_entries"] == N and entry["evidence"]["table_entries"] == N - 4


def test_reseal_refuses_a_broken_chain(trail):
    from app.store.audit import AuditError

    with attacker(trail) as c:
        c.execute("UPDATE audit SET reason = 'forged' WHERE seq = 3")
    with pytest.raises(AuditError, match="seq 3"):
        trail.reseal("operator:ana", "hide it")


# ---- the command line ------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_cli_verify_names_truncation_and_export_head_prints_the_anchor(data_dir):
    from app.services import Services

    audit = Services.from_settings(make_settings(data_dir)).audit
    for i in range(3):
        audit.record(f"cli:{i}", "cli", "triage", "triage")
    ok = run_cli(data_dir, "audit", "verify")
    assert ok.returncode == 0 and "intact" in ok.stdout, ok.stderr
    head = run_cli(data_dir, "audit", "export-head")
    assert head.returncode == 0, head.stderr
    assert json.loads(head.stdout)["entries"] == audit.verify().anchored
    with attacker(audit) as c:
        c.execute("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)")
    bad = run_cli(data_dir, "audit", "verify")
    assert bad.returncode == 1 and "BROKEN: truncated" in bad.stderr, bad.stderr
    sealed = run_cli(data_dir, "audit", "reseal", "--actor", "operator:ana", "--reason", "restored backup")
    assert sealed.returncode == 0, sealed.stderr
    assert run_cli(data_dir, "audit", "verify").returncode == 0
