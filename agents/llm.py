"""One way to ask a model for structured output, recording tokens from `usage_metadata`.

Provider failures never fail the conversation: the caller gets `None` and takes its
offline path; the failed call is still recorded so the degradation is visible.
Per-turn budgets (calls, tokens) are kept per thread in `agents.budget`; over budget is one more such failure.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from agents.budget import charge, refusal

T = TypeVar("T", bound=BaseModel)


def model_name(model: BaseChatModel) -> str:
    """The name recorded for a call: providers expose it under different attributes."""
    return str(getattr(model, "model_name", None) or getattr(model, "model", None) or type(model).__name__)


def ask_structured(
    model: BaseChatModel, schema: type[T], messages: list[BaseMessage], agent: str, limiter: Any = None
) -> tuple[T | None, dict[str, Any]]:
    record: dict[str, Any] = {
        "id": uuid.uuid4().hex, "agent": agent, "model": model_name(model),
        "input_tokens": 0, "output_tokens": 0, "error": None,
    }
    if (why := refusal(messages)) is not None:
        record["error"] = f"budget exceeded: {why}, offline path used"
        return None, record
    if limiter is not None and not limiter.acquire(blocking=False):
        record["error"] = "rate limited: LLM call budget exhausted, offline path used"
        return None, record
    try:
        out = model.with_structured_output(schema, method="function_calling", include_raw=True).invoke(messages)
    except Exception as exc:  # provider down, timeout, bad credentials: degrade, don't crash
        record["error"] = f"{type(exc).__name__}: {exc}"[:300]
        charge(0)
        return None, record
    raw = out.get("raw")
    usage = getattr(raw, "usage_metadata", None) or {}
    record["input_tokens"] = int(usage.get("input_tokens", 0))
    record["output_tokens"] = int(usage.get("output_tokens", 0))
    charge(record["input_tokens"] + record["output_tokens"])
    if out.get("parsing_error") is not None or out.get("parsed") is None:
        record["error"] = f"unparseable output: {out.get('parsing_error')}"[:300]
        return None, record
    return out["parsed"], record
