"""The index of pending reviews (app/store/pending_reviews.py) follows every thread through the thread runner, on
SQLite and PostgreSQL: a pause adds the row, a decision or a withdrawal removes it, a run a crash cut short is
settled by the next inbox read, a stale row is dropped and never decided, and a rebuild restores it. The inbox reads
a page of it, never every thread."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import pytest
from langchain_core.messages import HumanMessage
from langgraph.types import Command

from agents.compliance.reviewers import hash_token
from app.desk import NoPendingReviewError, SupportDesk
from app.review import door
from app.schema import upgrade
from app.services import Services
from app.store import checkpoints
from app.store.pending_reviews import PendingReviews
from tests.helpers import make_settings, run_cli

BIG = "I want a refund of $900 for order #55120, the laptop stopped working."
LEGAL = "Refund $300 for order #23456 or my lawyer will take legal action"
HUGE = "Please refund $3,000 for order #77120, the TV arrived broken"
QUESTION = "How do I reset my password?"
HOUR = 3600


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, data_dir):
    if request.param == "sqlite":
        return {}
    return {"database_url": request.getfixturevalue("pg_url")}


@pytest.fixture
def bdesk(data_dir, backend):
    d = SupportDesk(services=Services.from_settings(make_settings(data_dir, **backend)))
    yield d
    d.close()


def _rows(desk) -> dict[str, dict]:
    """Every row of the index, marks included."""
    with desk.runner.pending.db.connect() as c:
        return {r["thread_id"]: r for r in c.all("SELECT * FROM pending_reviews")}


def _dead_holder() -> str:
    """host:pid of a process that has exited, as a crashed worker's mark records it."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return f"{socket.gethostname()}:{proc.pid}"


def _crashed_mark(desk, tid: str, holder: str | None = None, age: float = 0.0) -> None:
    """What a worker killed mid-run leaves behind: its mark, never settled."""
    desk.runner.pending.mark(tid)
    with desk.runner.pending.db.connect() as c:
        c.execute("UPDATE pending_reviews SET running_holder = ?, running_since = ? WHERE thread_id = ?",
                  (holder or _dead_holder(), time.time() - age, tid))


def test_the_index_follows_pause_decision_and_answer(bdesk):
    answered = bdesk.send(QUESTION).thread_id
    r = bdesk.send(BIG, customer={"id": "customer-zed", "tier": "plus"})
    tid = r.thread_id
    rows = _rows(bdesk)
    assert answered not in rows  # an answered turn leaves no row, not even its run's mark
    row = rows[tid]
    snap = bdesk.runner.snapshot(tid)
    assert (row["interrupt_id"], row["rule_id"], row["rule_queue"], row["reviewer_role"]) == \
        (snap.interrupts[0].id, "refund-over-limit", "billing", "billing-lead")
    assert (row["amount"], row["limit_amount"], row["over_every_limit"], row["priority"], row["urgency"]) == \
        (900.0, 900.0, 0, "normal", 1)
    assert row["running_since"] is None and row["paused_at"] <= time.time()
    assert not {"55120", "laptop", "customer-zed"} & set(json.dumps(row).replace('"', " ").split())  # no text
    (item,) = bdesk.inbox()
    assert item["thread_id"] == tid and item["tier"] == "plus" and item["qualified"] == ["ana", "bo", "max"]

    assert bdesk.approve(tid, reviewer="bo").outcome == "ticket_created"
    assert _rows(bdesk) == {} and bdesk.inbox() == [] and bdesk.pending_reviews() == []


def test_a_withdrawal_removes_the_row(bdesk):
    tid = bdesk.send(BIG).thread_id
    assert set(_rows(bdesk)) == {tid}
    bdesk.send("Never mind, cancel that request", thread_id=tid)
    assert _rows(bdesk) == {} and bdesk.inbox() == []


def test_filters_pages_counts_and_the_sla_sweep_read_the_index(bdesk):
    legal, huge, big = (bdesk.send(m).thread_id for m in (LEGAL, HUGE, BIG))  # the $900 refund is the newest
    bdesk.send(QUESTION)
    reviews = bdesk.reviews
    assert {i["thread_id"] for i in reviews.inbox(queue="billing")} == {big}
    assert {i["thread_id"] for i in reviews.inbox(reviewer="bo")} == {big}
    assert {i["thread_id"] for i in reviews.inbox(reviewer="lee")} == {legal}
    assert {i["thread_id"] for i in reviews.inbox(reviewer="max")} == {huge}
    assert (reviews.count(), reviews.count(queue="legal"), reviews.count(reviewer="bo")) == (3, 1, 1)
    every = [i["thread_id"] for i in reviews.inbox()]
    assert [i["thread_id"] for o in (0, 1, 2) for i in reviews.inbox(limit=1, offset=o)] == every
    assert every == [legal, huge, big]  # the same priority: oldest first

    later = time.time() + 5 * HOUR  # billing (4 h) is overdue, legal (8 h) and general (24 h) are not
    assert [e["thread_id"] for e in bdesk.sla_sweep(now=later)] == [big]
    row = _rows(bdesk)[big]
    assert (row["escalated_to"], row["urgency"], row["priority"]) == ("supervisor", 2, "normal")
    assert [i["thread_id"] for i in reviews.inbox(now=later)] == [big, legal, huge]  # high now sorts first
    assert big in {i["thread_id"] for i in reviews.inbox(reviewer="max", now=later)}  # the notified role
    assert bdesk.sla_sweep(now=later) == []


def test_a_note_rewrites_the_row_and_keeps_its_age(desk):
    tid = desk.send(BIG).thread_id
    before = _rows(desk)[tid]
    desk.send("The order number is 55120 and the receipt is attached", thread_id=tid)
    after = _rows(desk)[tid]
    assert after["interrupt_id"] != before["interrupt_id"] and after["review_id"] == before["interrupt_id"]
    assert after["paused_at"] == before["paused_at"] and after["running_since"] is None
    (item,) = desk.inbox()
    assert item["interrupt_id"] == after["interrupt_id"] and item["customer_notes"]


def _kill_approval_before(desk, tid: str, node: str) -> None:
    """The API's own steps, stopped before `node` as a kill -9 there would leave the thread, with the mark the
    killed worker's runner had written and never settled."""
    steps = door.decide_steps(desk.services, tid, {"decisions": [{"type": "approve", "reviewer": "ana"}]})
    step = next(steps)
    step = steps.send(desk.graph.get_state(step.config))
    _crashed_mark(desk, tid)
    desk.graph.invoke(step.input, step.config, context=desk.runner.context, durability="sync",
                      interrupt_before=[node])
    steps.close()


def test_a_killed_approval_leaves_no_pending_item_and_the_next_approve_finishes_it(bdesk):
    tid = bdesk.send(BIG).thread_id
    _kill_approval_before(bdesk, tid, "ticketing")
    assert _rows(bdesk)[tid]["interrupt_id"]  # the stale row, still marked by the dead worker
    assert bdesk.inbox() == [] and _rows(bdesk) == {}  # settled from the thread: not paused, cut short
    assert bdesk.approve(tid, reviewer="ana").outcome == "ticket_created"  # the run is carried on
    assert _rows(bdesk) == {} and len(bdesk.services.tickets.list()) == 1


def _turn_outside_the_runner(desk, tid: str, text: str) -> None:
    desk.graph.invoke({"messages": [HumanMessage(content=text, id=f"m-{tid}")]}, {"configurable": {"thread_id": tid}},
                      context=desk.runner.context)


def test_a_turn_killed_after_it_paused_is_found_by_the_next_inbox_read(bdesk):
    """Killed between the pause and the settle: without the mark the pause would be in no index at all."""
    tid = "killed-after-pausing"
    _crashed_mark(bdesk, tid)
    _turn_outside_the_runner(bdesk, tid, BIG)  # paused; the worker died before settling
    assert _rows(bdesk)[tid]["interrupt_id"] is None
    (item,) = bdesk.inbox()
    assert item["thread_id"] == tid and _rows(bdesk)[tid]["running_since"] is None
    assert bdesk.approve(tid, reviewer="bo").outcome == "ticket_created" and _rows(bdesk) == {}


def test_a_live_runs_mark_is_left_alone_until_it_is_old(desk):
    tid = "still-running"
    _turn_outside_the_runner(desk, tid, BIG)
    _crashed_mark(desk, tid, holder=f"{socket.gethostname()}:1")  # pid 1 is alive: its run may still settle
    assert desk.inbox() == [] and _rows(desk)[tid]["running_since"] is not None
    _crashed_mark(desk, tid, holder=f"{socket.gethostname()}:1", age=120)  # … but not for two minutes
    assert [i["thread_id"] for i in desk.inbox()] == [tid]


def test_a_stale_row_is_dropped_and_cannot_be_decided(bdesk):
    """Decided straight through the graph (Studio, the SDK): the runner never saw it, the row is stale."""
    tid = bdesk.send(BIG).thread_id
    bdesk.graph.invoke(Command(resume={"decisions": [{"type": "approve", "reviewer": "bo", "token": "demo-bo"}]}),
                       {"configurable": {"thread_id": tid}}, context=bdesk.runner.context)
    assert not bdesk.runner.snapshot(tid).interrupts and tid in _rows(bdesk)
    assert bdesk.inbox() == [] and _rows(bdesk) == {}
    with pytest.raises(NoPendingReviewError):
        bdesk.approve(tid, reviewer="bo")
    assert len(bdesk.services.tickets.list()) == 1


def test_the_inbox_reads_a_page_never_every_thread(desk, monkeypatch):
    for k in range(8):
        desk.send(f"{QUESTION} ({k})")
    paused = {desk.send(m).thread_id for m in (BIG, LEGAL, HUGE, LEGAL.replace("23456", "23457"))}

    def every_thread(*_args, **_kwargs):
        raise AssertionError("the inbox listed every thread")

    monkeypatch.setattr(checkpoints, "thread_ids", every_thread)
    monkeypatch.setattr(desk.runner, "thread_ids", every_thread)
    reads = []
    real = desk.graph.get_state
    monkeypatch.setattr(desk.graph, "get_state", lambda config, **kw: reads.append(config) or real(config, **kw))
    page = desk.reviews.inbox(limit=2)
    assert len(page) == 2 and len(reads) == 2  # one snapshot per row shown, of 12 threads
    assert desk.reviews.count() == 4 and len(reads) == 2  # counting reads no thread
    assert {p["thread_id"] for p in desk.pending_reviews()} == paused and len(reads) == 6


def test_the_async_driver_keeps_the_index_too(desk):
    async def go():
        r = await desk.asend(BIG)
        assert set(_rows(desk)) == {r.thread_id}
        done = await desk.aresume(r.thread_id, {"decisions": [{"type": "approve", "reviewer": "bo"}]})
        assert done.outcome == "ticket_created" and _rows(desk) == {}
        await desk.aclose()

    asyncio.run(go())


def _wipe(target) -> None:
    index = PendingReviews(target)
    with index.db.connect() as c:
        c.execute("DELETE FROM pending_reviews")
        c.execute("DELETE FROM pending_reviews_builds")


def test_upgrade_fills_an_index_never_built_once(data_dir, backend, monkeypatch):
    settings = make_settings(data_dir, **backend)
    desk = SupportDesk(services=Services.from_settings(settings))
    try:
        tids = {desk.send(m).thread_id for m in (BIG, LEGAL)}
        desk.send(QUESTION)
        _wipe(settings.store_target)  # a deployment from before the index
        assert desk.inbox() == []
        assert upgrade(settings)["pending_reviews"] == "filled from the checkpointer: 2 pending of 3 threads"
        assert {i["thread_id"] for i in desk.inbox()} == tids
        monkeypatch.setattr(PendingReviews, "rebuild", lambda *a: pytest.fail("rebuilt twice"))
        assert upgrade(settings)["pending_reviews"] == "ok"
    finally:
        desk.close()


@pytest.mark.slow
def test_review_reindex_rebuilds_the_index(desk, data_dir):
    tids = {desk.send(m).thread_id for m in (BIG, LEGAL)}
    desk.send(QUESTION)
    _wipe(desk.services.settings.store_target)
    desk.runner.pending.write("gone-thread", desk.runner.snapshot(next(iter(tids))))  # a thread since deleted
    out = run_cli(data_dir, "review", "reindex", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"threads": 3, "pending": 2, "removed": 1}
    assert set(_rows(desk)) == tids and {i["thread_id"] for i in desk.inbox()} == tids
    text = run_cli(data_dir, "review", "reindex")
    assert "2 pending review(s) in 3 thread(s); 0 stale row(s) removed" in text.stdout


def test_get_reviews_pages_through_the_index(data_dir, monkeypatch):
    from fastapi.testclient import TestClient

    from app.http.api import create_app

    monkeypatch.setenv("SUPPORT_API_KEYS", f"web={hash_token('channel-key')}")
    with TestClient(create_app(make_settings(data_dir), warm_in_background=False)) as client:
        desk = client.app.state.desk
        tids = [desk.send(m).thread_id for m in (LEGAL, HUGE, BIG)]
        bo = {"Authorization": "Bearer demo-bo"}
        pages = [client.get("/v1/reviews", params={"limit": 2, "offset": o}, headers=bo) for o in (0, 2)]
        assert [r.status_code for r in pages] == [200, 200]
        assert [i["thread_id"] for p in pages for i in p.json()] == tids
        assert [i["thread_id"] for i in client.get("/v1/reviews?mine=true", headers=bo).json()] == [tids[2]]
        assert client.get("/v1/reviews?limit=0", headers=bo).status_code == 400  # the service's JSON 400
