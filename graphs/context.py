"""Run-time context and the adapter that turns agent functions into graph nodes.

Services travel in the run's `context` (never in state). Graphs run without context
(LangGraph Studio, `langgraph dev`) fall back to a factory the application registers
(`use_default_services`, done by app/studio.py), since building services is the application's job.
The adapter also enforces each agent's data contract (it sees only the state keys it
declares) and writes the audit trail from what the agent returned.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphBubbleUp
from langgraph.runtime import Runtime

from agents.audit_events import audit_update

_log = logging.getLogger("supportflow.graph")  # app/logs.py redacts every record of this family
_default_services: Callable[[], Any] | None = None


@dataclass
class SupportContext:
    services: Any = None  # app.services.Services; None → the registered default (Studio)


def use_default_services(factory: Callable[[], Any]) -> None:
    """Register how runs without a context get their services."""
    global _default_services
    _default_services = factory


def services_of(runtime: Runtime) -> Any:
    ctx = runtime.context
    if ctx is not None and getattr(ctx, "services", None) is not None:
        return ctx.services
    if _default_services is None:
        raise RuntimeError("no services in the run context: pass context=SupportContext(services=...) "
                           "or import app.studio, which registers the default")
    return _default_services()


def thread_of(config: RunnableConfig) -> str:
    return str((config.get("configurable") or {}).get("thread_id") or "no-thread")


def bind(fn: Callable[..., Any], reads: tuple[str, ...] | None = None, with_thread: bool = False) -> Callable:
    """Adapt `fn(state, services[, thread_id])` to a node.

    `reads` is the agent's data contract: the keys of state it may see (None = all).
    """

    def node(state: dict, config: RunnableConfig, runtime: Runtime[SupportContext]):


        svc = services_of(runtime)
        view = state if reads is None else {k: state[k] for k in reads if k in state}
        thread_id = thread_of(config)
        start = time.perf_counter()
        try:
            update = fn(view, svc, thread_id) if with_thread else fn(view, svc)
        except GraphBubbleUp:  # an interrupt is a pause, not a failure
            raise
        except Exception as exc:
            _log.warning("thread=%s node=%s failed: %s", thread_id, fn.__name__, exc)
            error = f"{type(exc).__name__}: {exc}"[:300]
            svc.metrics.node(thread_id, state.get("turn", 0), fn.__name__, _ms(start), error)
            raise
        svc.metrics.node(thread_id, state.get("turn", 0), fn.__name__, _ms(start))
        _log.debug("thread=%s node=%s done in %.1f ms", thread_id, fn.__name__, _ms(start))
        if isinstance(update, dict):
            for call in update.get("llm_calls") or []:
                call.setdefault("turn", state.get("turn", 0))
        audit_update(svc, thread_id, fn.__name__, state, update)
        return update

    node.__name__ = fn.__name__
    node.__doc__ = fn.__doc__
    return node


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
