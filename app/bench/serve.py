"""`bench serve`: the HTTP service under bounded load, over real HTTP on 127.0.0.1 only.

1. CPU-bound offline questions through 1, 2 and 4 uvicorn workers: throughput and p50/p95/p99, and the ratio of 2
   workers to 1 (goal ≥ 1.7×).
2. LLM mode against a local OpenAI-compatible stub that answers every call after `latency_ms`: `n` concurrent
   conversations, completed / errors, and throughput against min(n / latency, the CPU-bound ceiling).
The ceiling is what this machine's cores allow, from the CPU time each request cost the server's processes, the
load client and the local database server (CPU time read with psutil, so other programs sharing the machine hardly
change it; app/bench/cpu_time.py): on 2 cores, 4 workers cannot beat 2. Beside each run are the load average, the
share of the machine's CPU the run got and how busy the machine was: idle cores while requests were in flight mean
the service waited (on locks, on the database), and a load above the core count means other programs competed.
Everything it starts (servers, the stub) is stopped when it returns; nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from langchain_core.messages import HumanMessage, SystemMessage

from agents.compliance.reviewers import hash_token
from app.bench import NO_SYSTEMS, NO_SYSTEMS_ENV, ROOT
from app.bench.cpu_time import Machine, alive, database_cpu, loadavg, session_cpu
from app.llm.scripted import echo_responder
from app.store.metrics import percentile

KEY = "bench-key"
# Every request comes on that one key: a budget far above what a run sends keeps the limiter in the measured path
# without refusing any of them (the default, 120/minute, would refuse most).
RATE_LIMIT = "1000000/minute"
QUESTIONS = ["How do I reset my password?", "How long does a refund take to reach my card?",
             "What does Brightwave Plus include?", "Where is my parcel?", "How do I turn on two-step verification?",
             "Can I return opened earphones?", "How do I change my delivery address?", "Is my laptop under warranty?"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stub_app(latency_ms: float) -> FastAPI:
    """An OpenAI-compatible chat endpoint: every structured request answered plausibly after `latency_ms`."""
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> dict:
        req = await request.json()
        await asyncio.sleep(latency_ms / 1000)
        tool = req["tools"][0]["function"]["name"] if req.get("tools") else None
        msgs = [SystemMessage(str(m.get("content") or "")) if m["role"] == "system" else
                HumanMessage(str(m.get("content") or "")) for m in req["messages"]]
        reply = echo_responder(tool, msgs)
        message = {"role": "assistant", "content": None, "tool_calls": [{
            "id": f"call_{uuid.uuid4().hex[:8]}", "type": "function",
            "function": {"name": tool, "arguments": json.dumps(reply)}}]} if isinstance(reply, dict) else \
            {"role": "assistant", "content": str(reply.content)}
        return {"id": f"chatcmpl-{uuid.uuid4().hex[:10]}", "object": "chat.completion", "created": int(time.time()),
                "model": req.get("model", "stub"),
                "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tool else "stop"}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}}

    return app


@contextmanager
def in_thread(app, timeout: float = 120) -> Iterator[str]:
    """`app` served by uvicorn on a free 127.0.0.1 port in a thread of this process, once started (its lifespan
    done); yields its base URL."""
    port = _port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True, name="bench-server")
    thread.start()
    deadline = time.time() + timeout
    while not server.started:
        if not thread.is_alive() or time.time() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def _stub(latency_ms: float):
    with in_thread(stub_app(latency_ms)) as url:
        yield f"{url}/v1"


@contextmanager
def _server(data_dir: Path, workers: int, extra_env: dict[str, str]):
    port = _port()
    env = {**os.environ, "SUPPORT_DATA_DIR": str(data_dir), "SUPPORT_API_KEYS": f"bench={hash_token(KEY)}",
           "HF_HUB_OFFLINE": "1", "SUPPORT_RATE_LIMIT": RATE_LIMIT, **extra_env}
    log = open(data_dir.parent / f"server-{data_dir.name}.log", "w")  # closed in the finally below
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", str(workers)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline, ready = time.time() + 300, set()
        while len(ready) < workers:  # /readyz names its worker: wait until every worker has loaded its models
            try:
                r = httpx.get(f"{url}/readyz", timeout=2)
                if r.status_code == 200:
                    ready.add(r.json()["worker"])
            except httpx.HTTPError:
                pass
            ready = {pid for pid in ready if alive(pid)}  # one the supervisor replaced no longer counts
            if proc.poll() is not None or time.time() > deadline:
                log.flush()
                tail = (data_dir.parent / f"server-{data_dir.name}.log").read_text()[-2000:]
                raise RuntimeError(f"the server with {workers} workers did not become ready:\n{tail}")
            time.sleep(0.2)
        yield SimpleNamespace(url=url, session=proc.pid, workers=ready)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the workers too: they share the server's session
        log.close()


def _warm(server: SimpleNamespace, workers: int) -> None:
    """Every question several times per worker, each on a new connection so the kernel spreads them: a worker
    embeds the knowledge-base sentences an answer needs once (its in-process cache), and no worker should pay
    for that inside the measured run."""
    with httpx.Client(base_url=server.url, timeout=300, headers={"Authorization": f"Bearer {KEY}"},
                      limits=httpx.Limits(max_keepalive_connections=0)) as client, \
            ThreadPoolExecutor(2 * workers) as pool:  # several in flight, or one idle worker would accept them all
        list(pool.map(lambda q: client.post("/v1/messages", json={"message": q}), QUESTIONS * 6 * workers))


async def _load(server: SimpleNamespace, n: int, concurrency: int) -> dict[str, Any]:
    """`n` questions, `concurrency` at a time. A worker the supervisor replaced meanwhile (uvicorn kills one that
    misses its health check, as a starved worker does on a loaded machine) is counted: its replacement loads its
    models again while the run goes on."""
    latencies: list[float] = []
    errors = 0
    sem = asyncio.Semaphore(concurrency)
    # A new connection per request, as webhook-style channels make. Pooled connections stay with the worker that
    # accepted them, and one worker's event loop accepts a whole burst of connects at once: with 8 kept-alive
    # connections one of two workers did all the work (measured: CPU seconds per worker [1.74, 0.0]).
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=server.url, timeout=300, limits=limits,
                                 headers={"Authorization": f"Bearer {KEY}"}) as client:
        async def one(i: int) -> None:
            nonlocal errors
            async with sem:
                start = time.perf_counter()
                try:
                    r = await client.post("/v1/messages", json={"message": QUESTIONS[i % len(QUESTIONS)]})
                    for _ in range(60):  # a worker still loading says 503 + Retry-After: a client waits
                        if r.status_code != 503:
                            break
                        await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
                        r = await client.post("/v1/messages", json={"message": QUESTIONS[i % len(QUESTIONS)]})
                    ok = r.status_code == 200 and r.json().get("outcome") in ("answered", "ticket_created")
                except httpx.HTTPError:  # a dropped connection is an error to count, not a reason to stop
                    ok = False
                latencies.append((time.perf_counter() - start) * 1000)
                errors += not ok

        load_before, cpu_before, own_cpu = loadavg(), session_cpu(server.session), time.process_time()
        db_before, machine_before = database_cpu(), Machine.now()
        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - start
        busy, db_cpu = Machine.now().since(machine_before), database_cpu() - db_before
        cpu_after = session_cpu(server.session)  # one scan of the process table for both figures
        by_worker = {pid: t - cpu_before.get(pid, 0.0) for pid, t in cpu_after.items() if pid in server.workers}
        server_cpu = sum(cpu_after.values()) - sum(cpu_before.values())
        own_cpu = time.process_time() - own_cpu
    cores = os.cpu_count() or 1
    return {"requests": n, "errors": errors, "concurrency": concurrency, "seconds": round(wall, 2),
            "loadavg_before": load_before, "loadavg_after": loadavg(),
            "server_cpu_ms_per_request": round(server_cpu * 1000 / n, 1),
            "client_cpu_ms_per_request": round(own_cpu * 1000 / n, 1),  # this process: load client (and LLM stub)
            "database_cpu_ms_per_request": round(db_cpu * 1000 / n, 1),  # the local PostgreSQL server, if any
            "machine_cpu_ms_per_request": round(busy * wall * cores * 1000 / n, 1),  # everything, OS included
            "share_of_machine_cpu": round((server_cpu + own_cpu) / (wall * cores), 2),
            "machine_busy": round(busy, 2),  # below 1: cores stood idle while requests were in flight
            "workers_replaced": sum(not alive(pid) for pid in server.workers),
            "cpu_s_by_worker": sorted((round(t, 2) for t in by_worker.values()), reverse=True),
            "throughput_per_s": round(n / wall, 2), "p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1), "p99_ms": round(percentile(latencies, 0.99), 1)}


def _prepared(base: Path) -> Path:
    from app.services import Services  # deferred: loads the models (bench only)
    from app.settings import Settings
    from knowledge.ingest import ingest

    data = base / "data"
    svc = Services.from_settings(Settings(**NO_SYSTEMS, data_dir=data, offline=True))
    ingest([ROOT / "knowledge" / "sample"], svc.store(), svc.embedder)
    _ = svc.classifier  # trained once, copied by every server
    return data


def _ceiling(figures: dict[str, Any], workers: int, cores: int) -> float:
    """Requests/s the CPU allows, from CPU time per request: the server's processes can use min(workers, cores)
    cores, and the server, the load client (and stub) and the database server together can use all of them."""
    server = figures["server_cpu_ms_per_request"]
    shared = server + figures["client_cpu_ms_per_request"] + figures["database_cpu_ms_per_request"]
    return round(min(min(workers, cores) * 1000 / max(server, 0.1), cores * 1000 / max(shared, 0.1)), 2)


def run(n: int = 200, workers: tuple[int, ...] = (1, 2, 4), latency_ms: float = 200,
        llm_conversations: int = 200) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    cores = os.cpu_count() or 1
    try:
        data = _prepared(base)
        offline: dict[str, Any] = {}
        for w in workers:
            copy = base / f"w{w}"
            shutil.copytree(data, copy)
            with _server(copy, w, {"SUPPORT_OFFLINE": "true", "SUPPORT_CONNECTORS_MODE": "off"}) as server:
                _warm(server, w)
                offline[str(w)] = asyncio.run(_load(server, n, max(8, 4 * w)))
        ceiling = {str(w): _ceiling(offline[str(w)], w, cores) for w in workers}
        report: dict[str, Any] = {"cores": cores, "offline": offline, "cpu_bound_ceiling_per_s": ceiling}
        if "1" in offline and "2" in offline:
            report["speedup_2_vs_1"] = round(offline["2"]["throughput_per_s"] / offline["1"]["throughput_per_s"], 2)
            report["speedup_2_vs_1_cpu_allows"] = round(ceiling["2"] / ceiling["1"], 2)
            # All the machine's CPU at the 2-worker run's cost per request (its contention included), against what
            # 1 worker achieved: the most 2 workers could give here once nothing waits.
            report["speedup_2_vs_1_machine_allows"] = round(
                cores * 1000 / offline["2"]["machine_cpu_ms_per_request"] / offline["1"]["throughput_per_s"], 2)
        if llm_conversations:
            copy = base / "llm"
            shutil.copytree(data, copy)
            w = max(workers)
            with _stub(latency_ms) as stub, _server(copy, w, {
                    "SUPPORT_OFFLINE": "false", **NO_SYSTEMS_ENV, "SUPPORT_OPENAI_BASE_URL": stub,
                    "SUPPORT_OPENAI_API_KEY": "stub",
                    "SUPPORT_TRIAGE_CONFIDENCE": "0.55"}) as server:
                _warm(server, w)
                llm = asyncio.run(_load(server, llm_conversations, llm_conversations))
            cpu = _ceiling(llm, w, cores)  # LLM-mode turns cost other CPU than offline ones: their own ceiling
            ideal = min(llm_conversations / (latency_ms / 1000), cpu)
            llm.update({"latency_ms": latency_ms, "workers": w, "cpu_bound_ceiling_per_s": cpu,
                        "ideal_per_s": round(ideal, 2),
                        "throughput_vs_ideal": round(llm["throughput_per_s"] / ideal, 3)})
            report["llm_200ms"] = llm
        return report
    finally:
        shutil.rmtree(base, ignore_errors=True)
