"""`ScriptedChatModel`: a scripted stand-in for a chat model, used by the benchmarks (`bench cost`,
`bench concurrency`, `bench throughput`) and by tests. It makes no network calls and needs no API key.

It answers structured-output requests (tool calls) from a per-tool queue or a responder function,
reports `usage_metadata` (token counts approximated by langchain-core's `count_tokens_approximately`),
and records every prompt it received so tests can inspect exactly what an agent sent.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, PrivateAttr

Response = dict | AIMessage | Exception
Responder = Callable[[str | None, list[BaseMessage]], Response]


class ScriptedChatModel(BaseChatModel):
    """Replies from `script` (a queue per tool name, "__text__" for plain replies), else from `responder`."""

    model: str = "scripted"
    script: dict[str, list[Any]] = Field(default_factory=dict)  # dict args | AIMessage | Exception
    responder: Responder | None = None
    calls: list[dict[str, Any]] = Field(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools, *, tool_choice: str | None = None, **kwargs: Any):
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], tool_choice=tool_choice, **kwargs)

    def _next(self, tool: str | None, messages: list[BaseMessage]) -> Response:
        with self._lock:
            queue = self.script.get(tool or "__text__")
            if queue:
                return queue.pop(0)
        if self.responder is not None:
            return self.responder(tool, messages)
        raise RuntimeError(f"ScriptedChatModel has no response scripted for {tool or 'a text reply'}")

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        tools = kwargs.get("tools") or []
        tool = tools[0]["function"]["name"] if tools else None
        prompt = "\n".join(str(m.content) for m in messages)
        with self._lock:
            self.calls.append({"tool": tool, "prompt": prompt, "messages": list(messages)})
        response = self._next(tool, messages)
        if isinstance(response, Exception):
            raise response
        if isinstance(response, dict):
            call = {"name": tool, "args": response, "id": f"call_{uuid.uuid4().hex[:8]}"}
            response = AIMessage(content="", tool_calls=[call])
        if response.usage_metadata is None:  # tiktoken cannot download its tables offline: approximate
            inp = count_tokens_approximately(messages)
            out = count_tokens_approximately([response])
            response.usage_metadata = {"input_tokens": inp, "output_tokens": out, "total_tokens": inp + out}
        return ChatResult(generations=[ChatGeneration(message=response)])


def echo_responder(tool: str | None, messages: list[BaseMessage]) -> Response:
    """A plausible answer for each structured request, so whole flows run without scripting each call."""
    if tool == "TriageResult":
        return {"intent": "product_question", "confidence": 0.5}
    if tool == "GroundedAnswer":
        system = str(messages[0].content)
        first = system.split("[", 2)[1].split("]", 1)[0] if "[" in system else ""
        return {"answer": "Please see the help-centre article.", "citations": [first] if first else []}
    if tool == "GroundingVerdict":
        return {"grounded": True, "unsupported_claims": []}
    return AIMessage(content="OK")
