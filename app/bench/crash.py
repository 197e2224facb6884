"""Crash harness: run conversations in a worker process, `kill -9` it at random points, restart, and
check that nothing was lost or done twice.

The worker is written the way a real client recovers: every message carries a stable id, so
sending it again either carries on the run a crash cut short or returns the finished turn; a
paused review is approved (again, if the first approval died with the process). Side effects
(tickets, notifications, audit entries) are keyed by thread and turn, so a replayed node finds
its earlier result.

    python -m app bench crash --kills 50
"""

from __future__ import annotations

import os
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from app.bench import NO_SYSTEMS, NO_SYSTEMS_ENV, ROOT
from app.services import Services
from app.settings import Settings
from knowledge.ingest import ingest

QUESTION = "How do I reset my password? I forgot it."
SMALL_REFUND = "Please refund $40 for order #48213, the headphones arrived broken."
BIG_REFUND = "I want a refund of $900 for order #55120, the laptop stopped working."
SHAPES = ([QUESTION, SMALL_REFUND], [BIG_REFUND], [SMALL_REFUND, BIG_REFUND], [QUESTION])


def plan(n: int) -> list[dict]:
    """n conversations, each a thread with messages of known outcome (every refund ends in one ticket)."""
    out = []
    for i in range(n):
        texts = SHAPES[i % len(SHAPES)]
        tid = f"crash-{i:04d}"
        out.append({"thread_id": tid, "messages": [(f"{tid}-m{j}", t) for j, t in enumerate(texts)],
                    "tickets": sum(t != QUESTION for t in texts)})
    return out


def _services(data_dir: Path, database_url: str | None) -> Services:
    return Services.from_settings(Settings(**NO_SYSTEMS, data_dir=data_dir, offline=True, database_url=database_url))


def _desk(data_dir: Path, database_url: str | None):
    from app.desk import SupportDesk  # lazy: ~2.5 s to import (the graph); the CLI imports this module at startup

    return SupportDesk(services=_services(data_dir, database_url))


def prepare(data_dir: Path, database_url: str | None = None) -> None:
    """Ingest the sample help centre and train the classifier once, before any kill."""
    ready(_services(data_dir, database_url))


def ready(svc: Services) -> None:
    """The sample help centre ingested (unless it is) and the classifier trained, so no timed or killed run pays
    for either."""
    if svc.store().count() == 0:
        ingest([ROOT / "knowledge" / "sample"], svc.store(), svc.search_embedder)
    svc.classifier  # noqa: B018 - trains and caches


def drive(desk, conversations: list[dict], say=print) -> None:
    """Bring every conversation to its end, idempotently (safe to run again after any crash)."""
    for conv in conversations:
        tid = conv["thread_id"]
        for mid, text in conv["messages"]:
            snap = desk.graph.get_state({"configurable": {"thread_id": tid}})
            held = any(getattr(m, "id", None) == mid for m in (snap.values or {}).get("messages", []))
            if held and (snap.next or snap.interrupts):
                say(f"RESUMED {tid} {mid} {'review' if snap.interrupts else 'run'}")
            r = desk.send(text, tid, message_id=mid)
            while r.pending_review:
                r = desk.approve(tid, reviewer="ana")


def worker(data_dir: Path, n: int, database_url: str | None) -> None:
    # A review claim held by the killed worker is taken over at once: its process is gone.
    desk = _desk(data_dir, database_url)
    desk.services.retriever().search("warm up", k=3)
    desk.services.classifier  # noqa: B018
    print("READY", flush=True)
    drive(desk, plan(n), say=lambda s: print(s, flush=True))
    print("DONE", flush=True)


def _spawn(data_dir: Path, n: int, database_url: str | None) -> tuple[subprocess.Popen, queue.Queue]:
    cmd = [sys.executable, "-m", "app.bench.crash", str(data_dir), str(n)] + ([database_url] if database_url else [])
    env = {**os.environ, "SUPPORT_OFFLINE": "true", **NO_SYSTEMS_ENV, "HF_HUB_OFFLINE": "1"}
    errors = open(data_dir / "crash-worker.log", "a")  # the worker's stderr, for a failed final run
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=errors, text=True)
    errors.close()
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            lines.put(line.strip())
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


def _wait_for(lines: queue.Queue, word: str, timeout: float, seen: list[str]) -> bool:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            return False
        if line is None:
            return False
        seen.append(line)
        if line == word:
            return True
    return False


def _log_tail(data_dir: Path) -> str:
    log = data_dir / "crash-worker.log"
    return log.read_text(errors="replace")[-2000:] if log.exists() else ""


def check(data_dir: Path, n: int, database_url: str | None = None) -> dict:
    """Count lost conversations and duplicate side effects after the last run."""
    desk = _desk(data_dir, database_url)
    lost, dup_tickets, dup_turns, dup_notes, problems = 0, 0, 0, 0, []
    tickets = desk.services.tickets.list(limit=100_000)
    by_thread: dict[str, list[dict]] = {}
    for t in tickets:
        by_thread.setdefault(t["thread_id"], []).append(t)
    for conv in plan(n):
        tid = conv["thread_id"]
        snap = desk.graph.get_state({"configurable": {"thread_id": tid}})
        values = snap.values or {}
        ids = [m.id for m in values.get("messages", []) if m.type == "human"]
        want = [mid for mid, _ in conv["messages"]]
        got = len(by_thread.get(tid, []))
        unfinished = snap.next or snap.interrupts or values.get("turn") != len(want)
        if ids != want or unfinished or got < conv["tickets"]:
            lost += 1
            problems.append({"thread_id": tid, "messages": ids, "next": list(snap.next), "tickets": got})
        dup_turns += max(0, len(ids) - len(set(ids)))
        dup_tickets += max(0, got - conv["tickets"])
    for t in tickets:
        dup_notes += max(0, len(desk.services.tickets.notifications(t["id"])) - 1)
    # Each ticket has one audit event: "created", or "reused" when the attempt that created it was killed
    # before it could write its audit entry and the replayed node found the ticket.
    audited = Counter(e["evidence"]["id"] for e in desk.services.audit.entries() if e["event"] == "ticket")
    audit = desk.services.audit.verify()
    desk.close()
    return {"conversations": n, "lost_conversations": lost, "duplicate_tickets": dup_tickets,
            "duplicate_turns": dup_turns, "duplicate_notifications": dup_notes,
            "tickets": len(tickets), "ticket_audit_events": sum(audited.values()),
            "tickets_without_one_audit_event": sum(audited.get(t["id"], 0) != 1 for t in tickets),
            "audit_chain_ok": audit.ok, "audit_entries": audit.entries, "problems": problems[:5]}


def run(kills: int = 50, conversations: int | None = None, data_dir: Path | None = None, seed: int = 7,
        max_delay: float = 1.5, database_url: str | None = None, startup_timeout: float = 180) -> dict:
    rng = random.Random(seed)
    n = conversations or max(20, kills * 4)
    tmp = None
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="supportflow-crash-")
        data_dir = Path(tmp.name) / "data"
    prepare(data_dir, database_url)
    started = time.monotonic()
    done_kills, resumed, finished_early = 0, 0, False
    while done_kills < kills:
        proc, lines = _spawn(data_dir, n, database_url)
        seen: list[str] = []
        if not _wait_for(lines, "READY", startup_timeout, seen):
            proc.kill()
            raise RuntimeError(f"worker did not start: {_log_tail(data_dir)}")
        finished_early = _wait_for(lines, "DONE", rng.uniform(0.05, max_delay), seen)
        if proc.poll() is None:
            proc.kill()  # SIGKILL: no cleanup, no flush, mid-write if it happens to be
            done_kills += 1
        proc.wait()
        resumed += sum(1 for s in seen if s.startswith("RESUMED"))
        if finished_early:
            break
    proc, lines = _spawn(data_dir, n, database_url)  # the last run: bring every thread to its end
    seen = []
    ok = _wait_for(lines, "DONE", startup_timeout + 60 * n, seen)
    proc.wait()
    resumed += sum(1 for s in seen if s.startswith("RESUMED"))
    if not ok:
        raise RuntimeError(f"the final (uninterrupted) run failed: {_log_tail(data_dir)}")
    report = {"kills": done_kills, "workload_finished_before_all_kills": finished_early,
              "final_run_completed": ok, "runs_resumed_after_kill": resumed,
              **check(data_dir, n, database_url), "seconds": round(time.monotonic() - started, 1),
              "backend": "postgres" if database_url else "sqlite"}
    if tmp is not None:
        tmp.cleanup()
    return report


if __name__ == "__main__":  # the worker process
    worker(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
