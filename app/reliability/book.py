"""Reliability at run time: scores recomputed from the audit trail (at most every few minutes),
kept in the app database for `stats` and the dashboard, and the gate the supervisor's planner asks.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from langgraph.config import get_config

from app.reliability.scores import Score, collect, observations, scores

_books: dict[str, ReliabilityBook] = {}
_books_lock = threading.Lock()


class ReliabilityBook:
    def __init__(self, svc):
        self.svc = svc
        self._lock = threading.Lock()
        self._scores: dict[tuple[str, str], Score] = {}
        self._at = 0.0

    def refresh(self, now: float | None = None) -> dict[tuple[str, str], Score]:
        s = self.svc.settings
        now = now or time.time()
        since = now - s.reliability_window_hours * 3600
        entries = [e for e in self.svc.audit.entries() if e["ts"] >= since]
        customers: dict[str, str | None] = {}

        def customer_of(ticket_id: str | None) -> str | None:
            if ticket_id and ticket_id not in customers:
                customers[ticket_id] = (self.svc.tickets.get(ticket_id) or {}).get("customer_id")
            return customers.get(ticket_id) if ticket_id else None

        turns = collect(entries, self.svc.metrics.errors(since), customer_of, s.reliability_exclude_prefix, since)
        obs = observations(turns, s.reliability_recontact_hours * 3600)
        result = scores(obs, now, s.reliability_prior_mean, s.reliability_prior_strength,
                        s.reliability_half_life_hours * 3600, s.reliability_window_hours * 3600)
        self.svc.metrics.save_reliability([_row(sc, now) for sc in result.values()])
        with self._lock:
            self._scores, self._at = result, now
        return result

    def current(self) -> dict[tuple[str, str], Score]:
        if time.time() - self._at > self.svc.settings.reliability_refresh_seconds:
            self.refresh()
        return self._scores

    def gate(self, intent: str, agents: list[str]) -> dict[str, Any] | None:
        """The weakest of `agents` on this intent, if it is below the threshold."""
        threshold = self.svc.settings.reliability_threshold
        if threshold <= 0:
            return None
        current = self.current()
        low = [sc for a in agents if (sc := current.get((a, intent))) is not None and sc.score < threshold]
        if not low:
            return None
        worst = min(low, key=lambda sc: sc.score)
        fails = ", ".join(f"{n} {k}" for k, n in sorted(worst.failures.items())) or "no recent successes"
        return {"agent": worst.agent, "intent": intent, "score": worst.score, "threshold": threshold,
                "trials": worst.trials, "failures": worst.failures,
                "reason": f"reliability of {worst.agent} on {intent} is {worst.score:.2f} < {threshold:.2f} "
                          f"({fails} in {worst.trials} recent turns): "
                          "a person handles it instead of an automatic answer"}


def _row(sc: Score, now: float) -> dict[str, Any]:
    return {"agent": sc.agent, "intent": sc.intent, "score": sc.score, "weight": sc.weight, "trials": sc.trials,
            "failures": sc.failures, "updated_at": now}


def book_for(svc) -> ReliabilityBook:
    key = str(getattr(svc.settings, "database_url", None) or svc.settings.app_db)
    with _books_lock:
        book = _books.get(key)
        if book is None or book.svc is not svc and book.svc.settings != svc.settings:
            book = _books[key] = ReliabilityBook(svc)
        return book


def reliability_report(svc, refresh: bool = True) -> list[dict[str, Any]]:
    """Rows for `stats` and the dashboard: every agent × intent seen, weakest first."""
    book = book_for(svc)
    current = book.refresh() if refresh else book.current()
    threshold = svc.settings.reliability_threshold
    rows = [{**_row(sc, book._at), "below_threshold": threshold > 0 and sc.score < threshold}
            for sc in current.values()]
    return sorted(rows, key=lambda r: (r["score"], r["agent"], r["intent"]))


def gate_case(triage: dict, route: list[str], svc, turn: int | None = None) -> dict[str, Any] | None:
    """Ask the book; when it says no, write the reason to the audit trail for this thread and turn."""
    intent = triage.get("intent")
    if not intent or svc.settings.reliability_threshold <= 0:
        return None
    verdict = book_for(svc).gate(intent, ["triage", *route])
    if verdict is None:
        return None
    thread = _current_thread()
    if thread is not None:
        svc.audit.record(f"{thread}:{turn or 0}:reliability_gate:supervisor", thread, "supervisor",
                         "reliability_gate", verdict["reason"], evidence=verdict)
    return verdict


def _current_thread() -> str | None:
    try:
        return str(get_config().get("configurable", {}).get("thread_id"))
    except RuntimeError:  # called outside a graph run (tests, tools)
        return None
