"""A chat model that survives a flaky provider: client retries, then a retry on garbled output, then a
fallback model; only when all of that fails does the caller take its offline path.

Rate limits, 5xx and timeouts are retried (with backoff, honouring Retry-After) by the OpenAI client
itself (`SUPPORT_LLM_MAX_RETRIES`). A 200 response that is not usable — malformed JSON, a tool call
whose arguments do not parse, no tool call when one was required — is retried here with tenacity.
Each degradation (retry or fallback) is reported to `on_degrade`, which writes the audit trail.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables.config import ensure_config
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from agents.llm import model_name
from app.llm.models import ModelRouter, build_models


class GarbledOutput(ValueError):
    """The provider answered 200 with something the agent cannot use."""


def _garbled_types() -> tuple[type[BaseException], ...]:
    types: list[type[BaseException]] = [GarbledOutput, json.JSONDecodeError]
    try:  # lazy: the client library (~0.4 s to import) is needed only in LLM mode, when a call is made
        from openai import APIResponseValidationError

        types.append(APIResponseValidationError)
    except ImportError:  # pragma: no cover - openai ships with langchain-openai
        pass
    return tuple(types)


class ResilientChatModel(BaseChatModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    primary: BaseChatModel
    fallback: BaseChatModel | None = None
    output_attempts: int = 2
    on_degrade: Callable[[dict], None] | None = None
    model_name: str = ""

    def model_post_init(self, _context: Any) -> None:
        self.model_name = self.model_name or model_name(self.primary)

    @property
    def _llm_type(self) -> str:
        return "resilient"

    def bind_tools(self, tools, *, tool_choice: str | None = None, **kwargs: Any):
        if isinstance(tool_choice, str) and tool_choice not in ("auto", "none", "required", "any"):
            tool_choice = {"type": "function", "function": {"name": tool_choice}}
        elif tool_choice == "any":
            tool_choice = "required"
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], tool_choice=tool_choice, **kwargs)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        kwargs.pop("ls_structured_output_format", None)
        errors: list[str] = []
        models = [self.primary] + ([self.fallback] if self.fallback is not None else [])
        for i, model in enumerate(models):
            try:
                result = self._ask(model, messages, stop, errors, **kwargs)
            except Exception as exc:
                errors.append(f"{model_name(model)}: {type(exc).__name__}: {exc}"[:300])
                if i == len(models) - 1:
                    self._report(errors, None)
                    raise
                continue
            if errors:
                self._report(errors, model_name(model))
            return result
        raise RuntimeError("unreachable")  # pragma: no cover

    @property
    def stream_usage(self) -> bool:
        """Whether streamed calls still report token counts (the console streams only if they do)."""
        return bool(getattr(self.primary, "stream_usage", True))

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        """Stream from the primary model; if it fails before the first chunk, take the retrying, falling-back
        non-streaming path and deliver its answer as one chunk (a failure mid-stream is raised: the caller's
        offline path takes over)."""
        kwargs.pop("ls_structured_output_format", None)
        started = False
        try:
            for chunk in self.primary._stream(messages, stop=stop, run_manager=run_manager, **kwargs):
                started = True
                yield chunk
            return
        except Exception as exc:
            if started:
                self._report([f"{self.model_name}: stream broke: {type(exc).__name__}: {exc}"[:300]], None)
                raise
        msg = self._generate(messages, stop=stop, run_manager=run_manager, **kwargs).generations[0].message
        calls = [{"name": c["name"], "args": json.dumps(c["args"]), "id": c["id"], "index": i}
                 for i, c in enumerate(getattr(msg, "tool_calls", None) or [])]
        yield ChatGenerationChunk(message=AIMessageChunk(
            content=msg.content, tool_call_chunks=calls, usage_metadata=getattr(msg, "usage_metadata", None),
            response_metadata=msg.response_metadata, id=msg.id))

    def _ask(self, model: BaseChatModel, messages, stop, errors: list[str], **kwargs: Any) -> ChatResult:
        retrying = Retrying(retry=retry_if_exception_type(_garbled_types()),
                            stop=stop_after_attempt(self.output_attempts),
                            wait=wait_exponential_jitter(multiplier=0.05, max=1.0), reraise=True,
                            before_sleep=lambda rs: errors.append(
                                f"{model_name(model)}: retried garbled output ({rs.outcome.exception()})"[:300]))
        for attempt in retrying:
            with attempt:
                result = model._generate(messages, stop=stop, **kwargs)
                msg = result.generations[0].message
                bad = getattr(msg, "invalid_tool_calls", None)
                if kwargs.get("tools") and (bad or not getattr(msg, "tool_calls", None)):
                    raise GarbledOutput(f"invalid tool call: {bad[0].get('error') if bad else 'none returned'}"[:200])
                return result
        raise RuntimeError("unreachable")  # pragma: no cover

    def _report(self, errors: list[str], answered_by: str | None) -> None:
        if self.on_degrade is None:
            return
        thread_id = str((ensure_config().get("configurable") or {}).get("thread_id") or "-")
        try:
            self.on_degrade({"thread_id": thread_id, "primary": self.model_name, "answered_by": answered_by,
                             "errors": errors})
        except Exception:  # recording must never break the call it describes
            pass


def resilient_router(router: ModelRouter | None, fallback: BaseChatModel | None,
                     on_degrade: Callable[[dict], None] | None) -> ModelRouter | None:
    if router is None:
        return None

    def wrap(m: BaseChatModel) -> BaseChatModel:
        if isinstance(m, ResilientChatModel):
            return m
        return ResilientChatModel(primary=m, fallback=fallback, on_degrade=on_degrade)

    return ModelRouter(triage=wrap(router.triage), research=wrap(router.research))


def resilient_models(settings, on_degrade: Callable[[dict], None] | None) -> ModelRouter | None:
    """The per-role models from settings, each behind retries and `SUPPORT_FALLBACK_MODEL`."""
    router = build_models(settings)
    fallback = None
    if router is not None and settings.fallback_model:
        fallback = build_models(settings.model_copy(update={"triage_model": settings.fallback_model})).triage
    return resilient_router(router, fallback, on_degrade)
