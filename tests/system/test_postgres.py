"""The core flows on both backends: SQLite files (default) and PostgreSQL (`SUPPORT_DATABASE_URL`).

PostgreSQL cases use a throwaway database on 127.0.0.1:5432 and are skipped when it is unreachable.
"""

from __future__ import annotations

import json

import pytest

from app.desk import NoPendingReviewError, SupportDesk
from app.services import Services
from tests.helpers import make_settings, run_cli


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, data_dir):
    """Settings overrides for one backend: nothing for SQLite, a database URL for PostgreSQL."""
    if request.param == "sqlite":
        return {}
    return {"database_url": request.getfixturevalue("pg_url")}


def make_desk(data_dir, backend) -> SupportDesk:
    return SupportDesk(services=Services.from_settings(make_settings(data_dir, **backend)))


def test_stores_use_the_configured_backend(data_dir, backend):
    desk = make_desk(data_dir, backend)
    try:
        db = desk.services.tickets.db
        assert db.postgres == bool(backend)
        assert type(desk.checkpointer).__name__ == ("PostgresSaver" if backend else "SqliteSaver")
        for store in ("audit", "metrics", "vault", "controls"):
            assert getattr(desk.services, store).db.postgres == bool(backend)
    finally:
        desk.close()


def test_refund_auto_approved_and_idempotent(data_dir, backend):
    desk = make_desk(data_dir, backend)
    try:
        r = desk.send("Please refund $40 for order #48213, the headphones arrived broken.",
                      customer={"id": "c1", "verified": True})
        assert r.outcome == "ticket_created" and r.policy["rule_id"] == "refund-auto-approve"
        store = desk.services.tickets
        [t] = store.list()
        assert t["id"] == r.ticket_id and t["action"]["args"]["amount"] == 40.0
        assert store.notifications(t["id"])
        assert store.count_recent("c1", "refund", 30) == 1  # JSON field access in both dialects
        # the same idempotency key never creates a second ticket or notification
        key = t["idempotency_key"]
        again, created = store.create(key, thread_id=t["thread_id"], summary="x", action={}, policy={})
        assert not created and again["id"] == t["id"] and again["summary"] == t["summary"]
        assert not store.notify(f"{t['id']}:opened", t["id"], "customer", "dup")
        assert len(store.list()) == 1 and len(store.notifications(t["id"])) == 1
        summary = desk.services.metrics.summary()
        assert summary["turns"] == 1 and summary["outcomes"] == {"ticket_created": 1}
    finally:
        desk.close()


def test_review_approved_from_a_new_desk(data_dir, backend):
    first = make_desk(data_dir, backend)
    r = first.send("I want a refund of $900 for order #55120, the laptop stopped working.")
    assert r.outcome == "escalated_pending_review"
    tid = r.thread_id
    first.close()
    other = make_desk(data_dir, backend)  # new checkpointer and pools: state comes from the database
    try:
        assert [p["thread_id"] for p in other.pending_reviews()] == [tid]
        done = other.approve(tid, reviewer="ana")
        assert done.outcome == "ticket_created"
        assert other.pending_reviews() == []
        with pytest.raises(NoPendingReviewError):
            other.approve(tid, reviewer="ana")
        [t] = other.services.tickets.list()
        assert t["reviewer"] == "ana" and t["thread_id"] == tid
    finally:
        other.close()


@pytest.mark.slow
def test_review_approved_from_another_process(data_dir, backend):
    desk = make_desk(data_dir, backend)
    tid = desk.send("I want a refund of $900 for order #55120, the laptop stopped working.").thread_id
    env = {"SUPPORT_DATABASE_URL": backend["database_url"]} if backend else {}
    listed = run_cli(data_dir, "review", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert [i["thread_id"] for i in json.loads(listed.stdout)] == [tid]
    ok = run_cli(data_dir, "review", "approve", tid, "--reviewer", "ana", "--json", env=env)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["outcome"] == "ticket_created"
    assert [t["reviewer"] for t in desk.services.tickets.list()] == ["ana"]
    desk.close()


def test_audit_chain_verifies_and_refuses_edits(data_dir, backend):
    desk = make_desk(data_dir, backend)
    try:
        desk.send("Please refund $40 for order #48213, the headphones arrived broken.")
        audit = desk.services.audit
        report = audit.verify()
        assert report.ok and report.entries >= 4
        assert [e["seq"] for e in audit.entries()] == list(range(1, report.entries + 1))
        assert not audit.record(audit.entries()[0]["key"], "t", "x", "dup")  # keyed: logged once
        with audit.db.connect() as c:
            for sql in ("UPDATE audit SET reason = 'edited' WHERE seq = 1", "DELETE FROM audit WHERE seq = 2"):
                with pytest.raises(Exception, match="append-only"):
                    c.execute(sql)
        assert audit.verify().ok
    finally:
        desk.close()


def test_audit_tampering_is_named(data_dir, backend):
    """Someone with table-owner rights drops the guard and edits a row: verify() names the entry."""
    from app.store.audit import AuditLog

    audit = AuditLog(backend.get("database_url") or make_settings(data_dir).app_db)
    for i in range(3):
        audit.record(f"k{i}", "t1", "triage", "triage", f"reason {i}")
    with audit.db.connect() as c:
        if audit.db.postgres:
            c.execute("ALTER TABLE audit DISABLE TRIGGER audit_no_update")
        else:
            c.execute("DROP TRIGGER audit_no_update")
        c.execute("UPDATE audit SET reason = 'forged' WHERE seq = 2")
    report = audit.verify()
    assert not report.ok and report.seq == 2 and "edited" in report.problem


def test_kill_switch_and_vault(data_dir, backend):
    svc = Services.from_settings(make_settings(data_dir, **backend))
    assert not svc.controls.paused
    svc.controls.set_kill_switch(True, actor="ops", reason="incident")
    svc.controls.set_kill_switch(True, actor="ops", reason="again")  # upsert, not a duplicate row
    assert svc.controls.paused and svc.controls.kill_switch()["reason"] == "again"
    assert svc.vault.keep("t1", {"email": ["a@example.com"], "phone": ["+1 555 0100"]}) == 2
    assert svc.vault.keep("t1", {"email": ["a@example.com"]}) == 0
    assert svc.vault.contacts("t1") == {"email": ["a@example.com"], "phone": ["+1 555 0100"]}


def test_review_claims_once(data_dir, backend):
    from app.store.review_claims import ClaimTakenError, ReviewClaims

    claims = ReviewClaims(backend.get("database_url") or make_settings(data_dir).app_db)
    claims.claim("t1", "i1", "ana", "approve")
    with pytest.raises(ClaimTakenError, match="ana"):
        claims.claim("t1", "i1", "bo", "reject")
    claims.finish("t1", "i1")
    assert claims.get("t1", "i1")["status"] == "done"
    assert claims.escalate("t1", "i1", "high", "supervisor") and not claims.escalate("t1", "i1", "high", "supervisor")
    assert list(claims.escalations()) == [("t1", "i1")]


def test_async_api_on_backend(data_dir, backend):
    import asyncio

    desk = make_desk(data_dir, backend)

    async def main():
        msgs = [f"Please refund ${10 + i} for order #4821{i}, it arrived broken." for i in range(4)]
        out = await asyncio.gather(*(desk.asend(m, thread_id=f"a-{i}") for i, m in enumerate(msgs)))
        again = await desk.asend(msgs[0], thread_id="a-0", message_id="m-x")
        await desk.aclose()
        return out, again

    try:
        results, again = asyncio.run(main())
        assert [r.outcome for r in results] == ["ticket_created"] * 4
        assert again.thread_id == "a-0"
        tickets = desk.services.tickets.list()
        assert sorted(t["thread_id"] for t in tickets) == ["a-0", "a-0", "a-1", "a-2", "a-3"]
    finally:
        desk.close()
