"""Run-time context: the services agents use, injected per run via `context=`.

Graphs run without context (LangGraph Studio, `langgraph dev`) fall back to services built
from the environment, so the same graphs serve every interface.
"""

from dataclasses import dataclass
from typing import Any, Callable

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime


@dataclass
class SupportContext:
    services: Any = None  # app.services.Services; None → built from settings on first use


def services_of(runtime: Runtime) -> Any:
    ctx = runtime.context
    if ctx is not None and getattr(ctx, "services", None) is not None:
        return ctx.services
    from app.services import default_services

    return default_services()


def bind(fn: Callable[..., dict]) -> Callable:
    """Adapt an agent function `fn(state, services)` to a graph node."""

    def node(state: dict, runtime: Runtime[SupportContext]):
        return fn(state, services_of(runtime))

    node.__name__ = fn.__name__
    node.__doc__ = fn.__doc__
    return node


def bind_thread(fn: Callable[..., dict]) -> Callable:
    """Like `bind`, also passing the thread id (idempotency keys are derived from it)."""

    def node(state: dict, config: RunnableConfig, runtime: Runtime[SupportContext]):
        thread_id = (config.get("configurable") or {}).get("thread_id") or "no-thread"
        return fn(state, services_of(runtime), str(thread_id))

    node.__name__ = fn.__name__
    node.__doc__ = fn.__doc__
    return node
