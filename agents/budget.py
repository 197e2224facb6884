"""Per-turn LLM budgets (max calls, max tokens) so one conversation cannot run up the bill.

Triage opens a turn's budget for the thread it runs in; `agents.llm.ask_structured` asks it before every call
and charges it after. The thread is read from the running graph's config, so agents that call the LLM need no
extra arguments. Over budget, the call is refused and recorded like a provider failure: the agent takes its
offline path. Outside a graph run, or for a turn opened in another process (a resumed review), no budget applies.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from langchain_core.messages.utils import count_tokens_approximately
from langgraph.config import get_config

MAX_THREADS = 10_000  # budgets of idle threads are forgotten, oldest first


@dataclass
class TurnBudget:
    max_calls: int | None
    max_tokens: int | None
    calls: int = 0
    tokens: int = 0

    def refusal(self, estimate: int) -> str | None:
        if self.max_calls is not None and self.calls >= self.max_calls:
            return f"{self.calls} of {self.max_calls} LLM calls used this turn"
        if self.max_tokens is not None and self.tokens + estimate > self.max_tokens:
            return f"{self.tokens} tokens used + ~{estimate} needed > {self.max_tokens} this turn"
        return None


_budgets: OrderedDict[str, TurnBudget] = OrderedDict()
_lock = threading.Lock()


def _thread_id() -> str | None:
    try:
        configurable = get_config().get("configurable") or {}
    except RuntimeError:  # not inside a graph run
        return None
    tid = configurable.get("thread_id")
    return str(tid) if tid is not None else None


def open_turn(max_calls: int | None, max_tokens: int | None) -> None:
    """Start a fresh budget for the current thread's turn (called by triage, the first agent of a turn)."""
    tid = _thread_id()
    if tid is None:
        return
    with _lock:
        _budgets[tid] = TurnBudget(max_calls, max_tokens)
        _budgets.move_to_end(tid)
        while len(_budgets) > MAX_THREADS:
            _budgets.popitem(last=False)


def _current() -> TurnBudget | None:
    tid = _thread_id()
    return _budgets.get(tid) if tid is not None else None


def estimate_tokens(messages: list[Any]) -> int:
    """langchain-core's approximation (no tokenizer tables offline); only used to refuse a call before it is made."""
    return count_tokens_approximately(messages)


def refusal(messages: list[Any]) -> str | None:
    """Why the current turn may not make this call, or None."""
    with _lock:
        budget = _current()
        return budget.refusal(estimate_tokens(messages)) if budget is not None else None


def charge(tokens: int) -> None:
    with _lock:
        budget = _current()
        if budget is not None:
            budget.calls += 1
            budget.tokens += tokens
