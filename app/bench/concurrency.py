"""Concurrency bench: n conversations at once through `SupportDesk.asend`, LLM mode with a fake model
that takes `latency_ms` per call. Reports throughput against the ideal (every conversation's LLM calls
overlapping perfectly: n / (calls per conversation × latency)), latency percentiles, and leakage.

    python -m app bench concurrency --n 200 --latency-ms 200
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from app.bench import NO_SYSTEMS
from app.bench.crash import prepare
from app.llm.models import ModelRouter
from app.llm.scripted import ScriptedChatModel, echo_responder
from app.services import Services
from app.settings import Settings
from app.store.metrics import percentile

ORDER_BASE = 50000


def message(i: int) -> str:
    """Each conversation names its own order, so a reply can be traced to its thread."""
    return f"Please refund ${10 + i % 90} for order #{ORDER_BASE + i}, it arrived broken."


def responder(tool: str | None, messages: list):
    if tool == "TriageResult":
        return {"intent": "refund_request", "confidence": 0.95}
    return echo_responder(tool, messages)


class SlowModel(ScriptedChatModel):
    """The scripted fake with a provider's latency (sleeps in the caller's worker thread)."""

    latency_s: float = 0.0

    def _generate(self, messages, stop=None, run_manager=None, **kwargs: Any):
        if self.latency_s:
            time.sleep(self.latency_s)
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


def slow_model(latency_s: float) -> SlowModel:
    return SlowModel(responder=responder, latency_s=latency_s)


def make_desk(data_dir: Path, latency_ms: float, database_url: str | None = None):
    from app.desk import SupportDesk  # lazy: ~2.5 s to import (the graph); the CLI imports this module at startup

    settings = Settings(**NO_SYSTEMS, data_dir=data_dir, offline=False, openai_api_key="fake", triage_confidence=0.999,
                        database_url=database_url)
    model = slow_model(latency_ms / 1000)
    return SupportDesk(services=Services.from_settings(settings, models=ModelRouter(triage=model, research=model)))


async def converse(desk, n: int, prefix: str = "conc") -> tuple[list, list[float], float]:
    async def one(i: int):
        t = time.perf_counter()
        r = await desk.asend(message(i), thread_id=f"{prefix}-{i}")
        return r, (time.perf_counter() - t) * 1000

    start = time.perf_counter()
    out = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
    wall = time.perf_counter() - start
    results = [o[0] if not isinstance(o, BaseException) else o for o in out]
    lat = [o[1] for o in out if not isinstance(o, BaseException)]
    return results, lat, wall


def leaks(desk, results: list, prefix: str = "conc") -> list[str]:
    """Threads whose reply, ticket or history mentions another conversation's order."""
    bad = []
    tickets = {t["thread_id"]: t for t in desk.services.tickets.list(limit=100_000)}
    for i, r in enumerate(results):
        if isinstance(r, BaseException):
            continue
        tid = f"{prefix}-{i}"
        ticket = tickets.get(tid) or {}
        order = (ticket.get("action") or {}).get("args", {}).get("order_id")
        history = desk.history(tid)
        if r.thread_id != tid or order != str(ORDER_BASE + i) or len(history) != 2 or \
                str(ORDER_BASE + i) not in history[0]["content"]:
            bad.append(tid)
    return bad


def single_threaded_torch() -> None:
    """One intra-op thread per embedding: on 2 busy cores torch's own threads fight the conversations'
    (measured: ~6x slower per single-sentence embedding under load)."""
    import torch  # heavy (~2 s to import): only when a bench runs, not whenever the CLI starts

    torch.set_num_threads(1)


def run(n: int = 200, latency_ms: float = 200, data_dir: Path | None = None, database_url: str | None = None) -> dict:
    single_threaded_torch()
    tmp = None
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="supportflow-conc-")
        data_dir = Path(tmp.name) / "data"
        prepare(data_dir, database_url)
    desk = make_desk(data_dir, latency_ms, database_url)

    async def main():
        await desk.asend(message(0), thread_id="warm-up")  # loads the embedder, classifier, saver
        out = await converse(desk, n)
        await desk.aclose()
        return out

    results, lat, wall = asyncio.run(main())
    errors = [repr(r)[:200] for r in results if isinstance(r, BaseException)]
    ok = [r for r in results if not isinstance(r, BaseException)]
    calls = statistics.fmean(r.llm_calls for r in ok) if ok else 0.0
    ideal = n / (calls * latency_ms / 1000) if calls and latency_ms else float("nan")
    achieved = n / wall
    report = {
        "n": n, "latency_ms": latency_ms, "llm_calls_per_conversation": round(calls, 2),
        "wall_s": round(wall, 2), "throughput_per_s": round(achieved, 2), "ideal_per_s": round(ideal, 2),
        "throughput_vs_ideal": round(achieved / ideal, 3) if ideal == ideal else None,
        "p50_ms": round(percentile(lat, 0.5), 1), "p99_ms": round(percentile(lat, 0.99), 1),
        "p99_over_p50": round(percentile(lat, 0.99) / percentile(lat, 0.5), 2) if lat else None,
        "errors": len(errors), "error_samples": errors[:3], "leaked_threads": len(leaks(desk, results)),
        "outcomes": {o: sum(1 for r in ok if r.outcome == o) for o in {r.outcome for r in ok}},
        "backend": "postgres" if database_url else "sqlite",
    }
    desk.close()
    if tmp is not None:
        tmp.cleanup()
    return report
