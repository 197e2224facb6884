"""The HTTP service over real HTTP: uvicorn processes on free ports, httpx clients, SQLite or PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from agents.compliance.reviewers import hash_token
from tests.helpers import ROOT, free_port, server

pytestmark = pytest.mark.slow
KEY = "channel-secret-1"
REFUND = "I want a refund of $900 for order #55120"


def _env(data_dir: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "SUPPORT_DATABASE_URL"}
    return {**env, "SUPPORT_OFFLINE": "true", "SUPPORT_DATA_DIR": str(data_dir),
            "SUPPORT_API_KEYS": f"web={hash_token(KEY)}", **extra}


def _ready(url: str):
    def check():
        r = httpx.get(f"{url}/readyz", timeout=2)
        if r.status_code != 200:
            raise RuntimeError(r.text)
    return check


def _serve(tmp_path: Path, env: dict, name: str = "api", workers: int = 1):
    port = free_port()
    cmd = [sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", str(workers)]
    return server(cmd, ROOT, env, tmp_path / f"{name}.log", _ready(f"http://127.0.0.1:{port}"), name), \
        f"http://127.0.0.1:{port}"


def _auth(token: str = KEY) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_auth_errors_and_a_paused_refund_approved_by_the_token_owner(data_dir, tmp_path):
    ctx, url = _serve(tmp_path, _env(data_dir))
    with ctx, httpx.Client(base_url=url, timeout=60) as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/openapi.json").json()["paths"]["/v1/messages"]
        # nothing but health is open
        for method, path in [("post", "/v1/messages"), ("get", "/v1/threads/x"), ("get", "/v1/reviews"),
                             ("get", "/v1/tickets"), ("post", "/v1/reviews/x/approve"), ("get", "/v1/threads/x/audit")]:
            assert getattr(c, method)(path).status_code == 401, path
            assert getattr(c, method)(path, headers=_auth("wrong")).status_code == 401, path
        # a channel key may talk, not decide or read team data
        assert c.get("/v1/reviews", headers=_auth()).status_code == 403
        assert c.post("/v1/messages", headers=_auth(), json={"message": ""}).json()["error"]
        assert c.post("/v1/messages", headers=_auth(), json={"message": ""}).status_code == 400
        assert c.get("/v1/threads/unknown", headers=_auth()).status_code == 404

        r = c.post("/v1/messages", headers=_auth(), json={"message": REFUND, "thread_id": "t1"}).json()
        assert r["outcome"] == "escalated_pending_review"
        # the reviewer is the token's owner: sam (billing agent, $500) may not, bo (billing lead) may
        denied = c.post("/v1/reviews/t1/approve", headers=_auth("demo-sam"), json={"note": "ok"})
        assert denied.status_code == 403 and "sam" in denied.json()["error"]
        ok = c.post("/v1/reviews/t1/approve", headers=_auth("demo-bo"), json={"note": "checked"})
        assert ok.status_code == 200 and ok.json()["outcome"] == "ticket_created"
        again = c.post("/v1/reviews/t1/approve", headers=_auth("demo-bo"))
        assert again.status_code == 409 and "no pending review" in again.json()["error"]
        tickets = c.get("/v1/tickets", headers=_auth("demo-bo"), params={"thread_id": "t1"}).json()
        assert len(tickets) == 1 and tickets[0]["reviewer"] == "bo"
        story = c.get("/v1/threads/t1/audit", headers=_auth("demo-bo")).json()
        decisions = [e for e in story if e["event"] == "review_decision"]
        assert decisions and all(e["actor"] == "reviewer:bo" for e in decisions)


def test_message_id_makes_a_send_idempotent_and_the_stream_ends_with_the_result(data_dir, tmp_path):
    ctx, url = _serve(tmp_path, _env(data_dir))
    with ctx, httpx.Client(base_url=url, timeout=60) as c:
        body = {"message": REFUND.replace("900", "120"), "thread_id": "t2", "message_id": "m-1"}
        first = c.post("/v1/messages", headers=_auth(), json=body).json()
        second = c.post("/v1/messages", headers=_auth(), json=body).json()
        assert first["ticket_id"] and first["ticket_id"] == second["ticket_id"]
        assert len(c.get("/v1/threads/t2", headers=_auth()).json()["messages"]) == 2  # one question, one answer
        with c.stream("POST", "/v1/messages/stream", headers=_auth(),
                      json={"message": "How do I reset my password?", "thread_id": "t3"}) as s:
            text = "".join(s.iter_text())
        events = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("event: ")]
        assert "progress" in events and events[-1] == "result"


def test_two_servers_on_one_postgres_share_reviews_and_race_safely(pg_url, chroma_server, tmp_path):
    """A refund paused through one server is decided through the other; two simultaneous approvals: 200 + 409."""
    data_a, data_b = tmp_path / "a", tmp_path / "b"
    shared = {"SUPPORT_DATABASE_URL": pg_url, "SUPPORT_CHROMA_HOST": "127.0.0.1",
              "SUPPORT_CHROMA_PORT": str(chroma_server), "SUPPORT_SECRET_KEY": "shared-test-key"}
    ingest = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_a), "ingest", "knowledge/sample",
                             "--reviewer", "kim", "--token", "demo-kim"],
                            cwd=ROOT, env=_env(data_a, **shared), capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    ctx_a, url_a = _serve(tmp_path, _env(data_a, **shared), "a")
    ctx_b, url_b = _serve(tmp_path, _env(data_b, **shared), "b")
    with ctx_a, ctx_b, httpx.Client(timeout=120) as c:
        for tid in ("p1", "p2"):
            r = c.post(f"{url_a}/v1/messages", headers=_auth(), json={"message": REFUND, "thread_id": tid}).json()
            assert r["outcome"] == "escalated_pending_review"
        assert {i["thread_id"] for i in c.get(f"{url_b}/v1/reviews", headers=_auth("demo-bo")).json()} >= {"p1", "p2"}
        done = c.post(f"{url_b}/v1/reviews/p1/approve", headers=_auth("demo-bo"))
        assert done.status_code == 200 and done.json()["outcome"] == "ticket_created"

        codes: list[int] = []

        def approve(url: str, token: str) -> None:
            with httpx.Client(timeout=120) as own:
                codes.append(own.post(f"{url}/v1/reviews/p2/approve", headers=_auth(token)).status_code)

        racers = [threading.Thread(target=approve, args=(url_a, "demo-bo")),
                  threading.Thread(target=approve, args=(url_b, "demo-ana"))]
        for t in racers:
            t.start()
        for t in racers:
            t.join(timeout=300)
        assert sorted(codes) == [200, 409]
        tickets = c.get(f"{url_a}/v1/tickets", headers=_auth("demo-bo")).json()
        assert sorted(t["thread_id"] for t in tickets) == ["p1", "p2"]  # exactly one ticket each


def test_workers_starting_together_on_an_empty_database_all_become_ready(pg_url, tmp_path):
    """Four processes run the schema migrations at once: none deadlocks (the advisory lock is polled)."""
    script = ("import sys; from app.settings import Settings; from app.schema import upgrade; "
              "print(upgrade(Settings(data_dir=sys.argv[1], database_url=sys.argv[2])))")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / f"w{i}"), pg_url], cwd=ROOT,
                              env={**os.environ, "SUPPORT_OFFLINE": "true"}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(4)]
    try:
        outs = [p.communicate(timeout=240) for p in procs]  # a deadlock would hang here: the timeout fails it
    finally:
        for p in procs:
            p.kill()
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [o[1][-500:] for o in outs]


def test_encrypted_checkpoints_keep_text_unreadable_at_rest(data_dir):
    """With SUPPORT_ENCRYPT_CHECKPOINTS the checkpoint database holds ciphertext, and threads still resume."""
    from app.desk import SupportDesk
    from app.services import Services
    from tests.helpers import make_settings

    settings = make_settings(data_dir, encrypt_checkpoints=True, secret_key="test-key")
    with_key = SupportDesk(services=Services.from_settings(settings))
    r = with_key.send("I want a refund of $900 for order #55120, the speaker crackles badly", thread_id="enc")
    assert r.outcome == "escalated_pending_review"
    with_key.close()
    raw = settings.checkpoint_db.read_bytes() + b"".join(
        p.read_bytes() for p in settings.checkpoint_db.parent.glob("checkpoints.sqlite-*"))
    assert b"speaker crackles" not in raw
    reopened = SupportDesk(services=Services.from_settings(settings))
    assert reopened.approve("enc", reviewer="bo").outcome == "ticket_created"
    reopened.close()


def test_the_job_worker_runs_the_sla_sweep_from_postgres(pg_url, data_dir, tmp_path):
    """A review past its queue's SLA is escalated by `python -m app worker` (procrastinate on PostgreSQL)."""
    import time

    import yaml

    from app.desk import SupportDesk
    from app.jobs import connected, ensure_schema, sla_sweep
    from app.services import Services
    from tests.helpers import make_settings, run_cli

    reviewers = yaml.safe_load((ROOT / "app" / "config" / "reviewers.yaml").read_text())
    for queue in reviewers["queues"].values():
        queue["sla_hours"] = 0.0001  # overdue after a third of a second
    registry = tmp_path / "reviewers.yaml"
    registry.write_text(yaml.safe_dump(reviewers))
    env = {"SUPPORT_DATABASE_URL": pg_url, "SUPPORT_REVIEWERS_FILE": str(registry)}
    settings = make_settings(data_dir, database_url=pg_url, reviewers_file=registry)
    assert ensure_schema(settings) and not ensure_schema(settings)  # once, then already there
    desk = SupportDesk(services=Services.from_settings(settings))
    tid = desk.send(REFUND).thread_id
    time.sleep(1)
    with connected(settings, sync=True):
        sla_sweep.defer(timestamp=0)
    done = run_cli(data_dir, "worker", "--once", env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    escalations = [e for e in desk.services.audit.entries(tid) if e["event"] == "sla_escalation"]
    assert len(escalations) == 1 and escalations[0]["actor"] == "system:sla", done.stderr[-3000:]
    desk.close()


def test_a_turn_cut_short_by_kill_9_is_completed_once_by_the_other_server(pg_url, chroma_server, tmp_path):
    """The client retries with the same message_id on another server after the first one died mid-turn."""
    import signal
    import time

    shared = {"SUPPORT_DATABASE_URL": pg_url, "SUPPORT_CHROMA_HOST": "127.0.0.1",
              "SUPPORT_CHROMA_PORT": str(chroma_server), "SUPPORT_SECRET_KEY": "shared-test-key"}
    data_a, data_b = tmp_path / "a", tmp_path / "b"
    ingest = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_a), "ingest", "knowledge/sample",
                             "--reviewer", "kim", "--token", "demo-kim"],
                            cwd=ROOT, env=_env(data_a, **shared), capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    port_a = free_port()
    victim = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port_a)], cwd=ROOT,
                              env=_env(data_a, **shared), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    url_a = f"http://127.0.0.1:{port_a}"
    ctx_b, url_b = _serve(tmp_path, _env(data_b, **shared), "b")
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                if httpx.get(f"{url_a}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        body = {"message": "Please refund $120 for order #55120, it arrived broken", "thread_id": "k1",
                "message_id": "msg-1"}
        sender = threading.Thread(target=lambda: httpx.post(f"{url_a}/v1/messages", headers=_auth(), json=body,
                                                             timeout=60), daemon=True)
        sender.start()
        time.sleep(0.15)  # somewhere inside the turn (or just after it): either way it must complete exactly once
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        with ctx_b, httpx.Client(timeout=120) as c:
            r = c.post(f"{url_b}/v1/messages", headers=_auth(), json=body)
            assert r.status_code == 200 and r.json()["outcome"] == "ticket_created", r.text
            again = c.post(f"{url_b}/v1/messages", headers=_auth(), json=body).json()
            assert again["ticket_id"] == r.json()["ticket_id"]
            tickets = c.get(f"{url_b}/v1/tickets", headers=_auth("demo-bo"), params={"thread_id": "k1"}).json()
            assert len(tickets) == 1
            notes = c.get(f"{url_b}/v1/tickets/{tickets[0]['id']}", headers=_auth("demo-bo")).json()["notifications"]
            assert len(notes) == 1
            humans = [m for m in c.get(f"{url_b}/v1/threads/k1", headers=_auth()).json()["messages"]
                      if m["role"] == "human"]
            assert len(humans) == 1
    finally:
        if victim.poll() is None:
            os.killpg(victim.pid, signal.SIGKILL)
