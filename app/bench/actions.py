"""`bench actions`: conversations with actions against the shipped sample shop, with kills and a failing connector.

A worker process runs N conversations of verified customers (refunds within policy, refunds above what was paid,
cancellations of placed and of shipped orders, a refund above the automatic limit that a reviewer approves, an
order-status question) through the desk, which talks to the shop over MCP stdio. The shop fails a share of calls
before doing anything, and a smaller share after committing (a lost response). The harness `kill -9`s the worker at
random moments and starts it again, as a client that retries every message with its id would, then runs the
reconciler once the shop is healthy, and checks the shop's own ledger:

- executed: writes the shop holds; ticketed: approved writes handed to a person because the shop stayed down
  through the connector's retries (the reconciler then settles them, with the same keys);
- double executions (must be 0): more refund payments on an order than the conversation asked for;
- lost approved actions (must be 0): approved, yet neither in the ledger nor on an open ticket;
- wrong executions (must be 0): a payment for the wrong amount or order;
- the p50/p95 the look-ups (the `facts` and `from_order` nodes) add to a turn.

    python -m app bench actions --conversations 30 --kills 8 --fail-rate 0.3
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.bench import ROOT
from app.bench.crash import _wait_for, ready
from app.services import Services
from app.settings import Settings

SHAPES = ("refund", "cancel", "refund_over", "cancel_shipped", "refund_review", "status")


def plan(n: int) -> tuple[dict, list[dict]]:
    """(shop fixture, conversations): one customer and one order per conversation, so effects never mix."""
    customers, orders, conversations = [], [], []
    for i in range(n):
        shape, cid, oid = SHAPES[i % len(SHAPES)], f"bench-c{i:03d}", f"BW-8{i:04d}"
        customers.append({"id": cid, "name": f"Customer {i}", "email": f"c{i}@example.com", "tier": "standard",
                          "verified": True})
        status = {"cancel": "placed", "cancel_shipped": "shipped", "status": "shipped"}.get(shape, "delivered")
        total = 900.0 if shape == "refund_review" else 150.0
        orders.append({"id": oid, "customer": cid, "status": status, "placed": "today-8",
                       "shipped": None if status == "placed" else "today-6",
                       "delivered": "today-4" if status == "delivered" else None, "total": total, "currency": "USD",
                       "refunded": 0.0, "carrier": "UPS", "tracking": f"1Z{i:012d}",
                       "items": [{"sku": "S-1", "name": "Wave headphones", "category": "audio", "price": total,
                                  "quantity": 1}]})
        text, refund, cancel = {
            "refund": (f"Please refund $60 for order {oid}, it arrived damaged.", 60.0, False),
            "cancel": (f"Please cancel order {oid}, I ordered it by mistake.", 0.0, True),
            "refund_over": (f"Refund $400 for order {oid} please.", 0.0, False),
            "cancel_shipped": (f"Cancel order {oid} please.", 0.0, False),
            "refund_review": (f"I'd like a refund of $700 for order {oid}, the laptop is faulty.", 700.0, False),
            "status": (f"Where is my order {oid}?", 0.0, False),
        }[shape]
        conversations.append({"thread_id": f"act-{i:04d}", "customer": cid, "order": oid, "shape": shape,
                              "messages": [(f"act-{i:04d}-m0", text)], "refund": refund, "cancel": cancel})
    return {"customers": customers, "orders": orders}, conversations


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, offline=True, connectors_mode="live")


def drive(desk, conversations: list[dict], say=print) -> None:
    for conv in conversations:
        customer = {"id": conv["customer"], "verified": True, "tier": "standard"}
        for mid, text in conv["messages"]:
            r = desk.send(text, conv["thread_id"], customer=customer, message_id=mid)
            while r.pending_review:
                r = desk.approve(conv["thread_id"], reviewer="ana")
            say(f"TURN {conv['thread_id']} {r.outcome} {(r.execution or {}).get('status')}")


def worker(data_dir: Path, n: int) -> None:
    from app.desk import SupportDesk

    desk = SupportDesk(services=Services.from_settings(_settings(data_dir)))
    desk.services.retriever().search("warm up", k=3)
    desk.services.classifier  # noqa: B018
    print("READY", flush=True)
    drive(desk, plan(n)[1], say=lambda s: print(s, flush=True))
    print("DONE", flush=True)
    desk.close()


def _spawn(data_dir: Path, n: int, faults: dict[str, str]):
    import queue
    import threading

    env = {**os.environ, "SUPPORT_OFFLINE": "true", "SUPPORT_CONNECTORS_MODE": "live", "HF_HUB_OFFLINE": "1",
           **faults}
    log = open(data_dir / "actions-worker.log", "a")
    proc = subprocess.Popen([sys.executable, "-m", "app.bench.actions", str(data_dir), str(n)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=log, text=True)
    log.close()
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            lines.put(line.strip())
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


def _seed(data_dir: Path, fixture: dict) -> Path:
    path = data_dir / "bench-shop.json"
    path.write_text(json.dumps(fixture), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "app.shop", "seed", str(path), "--db", str(data_dir / "shop.db"),
                    "--replace"], cwd=ROOT, check=True, capture_output=True, text=True)
    return path


def check(data_dir: Path, conversations: list[dict]) -> dict:
    """Read the shop's ledger and the desk's records after the last run."""
    svc = Services.from_settings(_settings(data_dir))
    db = sqlite3.connect(data_dir / "shop.db")
    payments: dict[str, list[float]] = {}
    for order_id, amount in db.execute("SELECT order_id, amount FROM payments WHERE kind = 'refund'"):
        payments.setdefault(order_id, []).append(float(amount))
    statuses = dict(db.execute("SELECT id, status FROM orders"))
    db.close()
    executed = ticketed = doubles = lost = wrong = 0
    problems = []
    for conv in conversations:
        oid, paid = conv["order"], payments.get(conv["order"], [])
        rows = svc.executions.of_thread(conv["thread_id"])
        open_for_person = [r for r in rows if r["status"] in ("failed", "planned")]
        wants_write = conv["refund"] > 0 or conv["cancel"]
        did = (len(paid) >= 1 if conv["refund"] else statuses.get(oid) == "cancelled") if wants_write else False
        executed += did
        doubles += max(0, len(paid) - 1)
        wrong += sum(abs(a - conv["refund"]) > 0.005 for a in paid) if conv["refund"] else (
            len(paid) if not conv["cancel"] else 0)
        if wants_write and not did:
            if open_for_person:
                ticketed += 1
            else:
                lost += 1
                problems.append({"thread_id": conv["thread_id"], "shape": conv["shape"],
                                 "executions": [r["status"] for r in rows]})
    nodes = svc.metrics.summary()["agents"]
    lookups = {n: {k: nodes[n][k] for k in ("runs", "p50_ms", "p95_ms")} for n in ("gather_facts", "from_order")
               if n in nodes}
    return {"conversations": len(conversations),
            "writes_expected": sum(c["refund"] > 0 or c["cancel"] for c in conversations),
            "executed": executed, "ticketed": ticketed, "double_executions": doubles,
            "lost_approved_actions": lost, "wrong_executions": wrong, "lookup_latency_ms": lookups,
            "problems": problems[:5]}


def run(conversations: int = 30, kills: int = 8, fail_rate: float = 0.3, fail_after_rate: float = 0.1,
        seed: int = 11, max_delay: float = 4.0, data_dir: Path | None = None, startup_timeout: float = 240) -> dict:
    rng = random.Random(seed)
    tmp = tempfile.TemporaryDirectory(prefix="supportflow-actions-") if data_dir is None else None
    data_dir = data_dir or Path(tmp.name) / "data"
    ready(Services.from_settings(_settings(data_dir)))
    fixture, convs = plan(conversations)
    _seed(data_dir, fixture)
    faults = {"SHOP_FAIL_RATE": str(fail_rate), "SHOP_FAIL_AFTER_RATE": str(fail_after_rate)}
    started, done_kills, finished = time.monotonic(), 0, False
    while done_kills < kills and not finished:
        proc, lines = _spawn(data_dir, conversations, {**faults, "SHOP_FAIL_SEED": str(rng.randrange(10**6))})
        seen: list[str] = []
        if not _wait_for(lines, "READY", startup_timeout, seen):
            proc.kill()
            raise RuntimeError("worker did not start: " + (data_dir / "actions-worker.log").read_text()[-2000:])
        finished = _wait_for(lines, "DONE", rng.uniform(0.2, max_delay), seen)
        if proc.poll() is None:
            proc.kill()
            done_kills += 1
        proc.wait()
    proc, lines = _spawn(data_dir, conversations, faults)  # the last run, still with a failing connector
    ok = _wait_for(lines, "DONE", startup_timeout + 60 * conversations, [])
    proc.wait()
    if not ok:
        raise RuntimeError("the final run failed: " + (data_dir / "actions-worker.log").read_text()[-2000:])
    from app.actions import reconcile  # the shop is healthy again: settle what a person would otherwise finish

    svc = Services.from_settings(_settings(data_dir))
    to_person = sum(r["status"] == "failed" for c in convs for r in svc.executions.of_thread(c["thread_id"]))
    reconciled = reconcile(svc, older_than=0)
    svc.close_systems()
    after = check(data_dir, convs)
    report = {"kills": done_kills, "fail_rate": fail_rate, "fail_after_rate": fail_after_rate,
              "ticketed": to_person, "reconciled": len(reconciled), **after,
              "still_open_after_reconcile": after.pop("ticketed"),
              "seconds": round(time.monotonic() - started, 1)}
    if tmp is not None:
        tmp.cleanup()
    return report


if __name__ == "__main__":  # the worker process
    worker(Path(sys.argv[1]), int(sys.argv[2]))
