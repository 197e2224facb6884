"""Run-time context and the adapter that turns agent functions into graph nodes.

Services travel in the run's `context` (never in state). Graphs run without context
(LangGraph Studio, `langgraph dev`) fall back to services built from the environment.
The adapter also enforces each agent's data contract (it sees only the state keys it
declares) and writes the audit trail from what the agent returned.
"""

import time
from dataclasses import dataclass
from typing import Any, Callable

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime

from app.logs import get_logger

_log = get_logger("graph")


@dataclass
class SupportContext:
    services: Any = None  # app.services.Services; None → built from settings on first use


def services_of(runtime: Runtime) -> Any:
    ctx = runtime.context
    if ctx is not None and getattr(ctx, "services", None) is not None:
        return ctx.services
    from app.services import default_services

    return default_services()


def thread_of(config: RunnableConfig) -> str:
    return str((config.get("configurable") or {}).get("thread_id") or "no-thread")


def bind(fn: Callable[..., Any], reads: tuple[str, ...] | None = None, with_thread: bool = False) -> Callable:
    """Adapt `fn(state, services[, thread_id])` to a node.

    `reads` is the agent's data contract: the keys of state it may see (None = all).
    """

    def node(state: dict, config: RunnableConfig, runtime: Runtime[SupportContext]):
        from langgraph.errors import GraphBubbleUp

        from app.audit_events import audit_update

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
            svc.metrics.node(thread_id, state.get("turn", 0), fn.__name__, _ms(start), f"{type(exc).__name__}: {exc}"[:300])
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
