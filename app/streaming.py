"""Progress events of a streamed turn: what the console chat and `GET /v1/messages/stream` show while it runs.

A streamed turn is the same operation as `SupportDesk.send` (app/threads.py `send_steps`); only the turn's own run
is driven with `graph.stream` instead of `invoke`: `stream_mode="updates"` with sub-graphs (who is working) and,
in LLM mode, `"messages"` (the answer as it is generated). This module turns those chunks into `Event`s; how to
word them for a customer is the UI's (app/ui/progress.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from langchain_core.utils.json import parse_partial_json

from agents.research.answer_guard import findings

T = TypeVar("T")
SPECIALISTS = ("triage", "research", "compliance", "ticketing")
DRAFT_NODE = "answer"  # research's answering node: the only LLM output shown to the customer


@dataclass
class Event:
    """`step` (a node inside an agent finished), `finished` (a specialist sub-graph finished),
    `route` (the supervisor chose a specialist), `token` (the answer draft so far), `paused`
    (policy asked for human review)."""

    kind: str
    agent: str
    node: str = ""
    text: str = ""
    data: dict[str, Any] = field(default_factory=dict)


class TurnStream(Generic[T]):
    """A streamed operation: iterate for its events; `result` is what it returned (a TurnResult for a turn) once
    the iteration is over, None before."""

    def __init__(self, events: Iterator[Event]):  # a generator whose return value is the result
        self._events, self.result = events, None

    def __iter__(self) -> Iterator[Event]:
        self.result = yield from self._events


def _agent_of(namespace: tuple[str, ...], node: str) -> str:
    return namespace[0].split(":", 1)[0] if namespace else node


def describe(node: str, update: Any) -> str:
    """One line on what a finished node decided, from its state update."""
    update = update if isinstance(update, dict) else {}
    if t := update.get("triage"):
        if node == "enrich":
            return f"intent {t.get('intent')} ({t.get('confidence')}), urgency {t.get('urgency')}"
    if (r := update.get("research")) and node in ("retrieve", "check_grounding"):
        if node == "retrieve":
            return f"{len(r.get('retrieved') or [])} documents retrieved"
        return "answer grounded" if r.get("grounded") else "answer not grounded: withheld"
    if (d := update.get("compliance")) and node == "evaluate":
        return f"policy: {d.get('effect')} by rule {d.get('rule_id')}"
    if (tk := update.get("ticket")) and node == "open_ticket":
        return f"ticket {tk.get('id')}"
    if node == "supervisor" and update.get("route"):
        return f"→ {update['route'][-1]}"
    return "done"


class _Draft:
    """Accumulates the answer node's streamed structured output and extracts the `answer` field."""

    def __init__(self) -> None:
        self.args = ""
        self.text = ""
        self.complete = False  # the answer is whole: its arguments parse, or a model that does not stream sent it
        self.ended = False  # the whole answer was handed on once

    def feed(self, message: Any) -> str | None:
        chunks = getattr(message, "tool_call_chunks", None) or []
        if chunks:
            self.args += "".join(c.get("args") or "" for c in chunks)
        elif getattr(message, "tool_calls", None):  # a non-streaming model delivers the whole call
            self.args, self.complete = "", True
            text = str((message.tool_calls[0].get("args") or {}).get("answer") or "")
            return self._set(text)
        elif isinstance(message.content, str) and message.content:
            return self._set(self.text + message.content)
        try:  # the arguments are whole (the last chunk, or a model that does not stream): the draft is complete
            parsed, self.complete = json.loads(self.args), True
        except ValueError:
            parsed = parse_partial_json(self.args) if self.args else None
        return self._set(str(parsed.get("answer") or "")) if isinstance(parsed, dict) else None

    def _set(self, text: str) -> str | None:
        if text and (text != self.text or (self.complete and not self.ended)):
            self.text, self.ended = text, self.complete
            return text
        return None


def streams_tokens(services: Any) -> bool:
    """Stream LLM tokens only if every model still reports usage when streamed: an OpenAI client on a
    custom base URL streams without token counts unless `stream_usage` is on, and the run metrics
    must stay exact. Offline there is nothing to stream."""
    models = services.models
    if models is None:
        return False
    return all(getattr(models.for_role(role), "stream_usage", True) for role in ("triage", "research"))


def stream_modes(services: Any) -> list[str]:
    return ["updates", "messages"] if streams_tokens(services) else ["updates"]


class Progress:
    """The events of one streamed run, chunk by chunk: each `(namespace, mode, chunk)` of `graph.stream(...,
    stream_mode=stream_modes(...), subgraphs=True)`. The answer draft builds up across "messages" chunks.

    The draft is the model's text before research screens it (agents/research/answer_guard.py), so it is shown
    one finished sentence at a time, each screened first; once a sentence asks for a secret or links outside
    `allowed`, nothing more of the draft is shown (the answer itself is withheld for a person)."""

    def __init__(self, allowed: tuple[str, ...] = ()) -> None:
        self.draft = _Draft()
        self.allowed, self.shown, self.blocked = allowed, "", False

    def events(self, namespace: tuple[str, ...], mode: str, chunk: Any) -> Iterator[Event]:
        if mode == "messages":
            msg, meta = chunk
            if meta.get("langgraph_node") == DRAFT_NODE and (text := self.draft.feed(msg)):
                if shown := self._screened(text):
                    yield Event("token", "research", DRAFT_NODE, shown)
            return
        for node, update in chunk.items():
            if event := _event(namespace, node, update):
                yield event


    def _screened(self, text: str) -> str | None:
        """The draft up to its last finished sentence, when that is new and passes the answer screen."""
        cut = len(text) - 1 if self.draft.complete else max(text.rfind(m) for m in (". ", "! ", "? ", "\n"))
        done = text[: cut + 1].rstrip() if cut >= 0 else ""
        if self.blocked or len(done) <= len(self.shown):
            return None
        if findings(done, self.allowed):
            self.blocked = True
            return None
        self.shown = done
        return done


def _event(namespace: tuple[str, ...], node: str, update: Any) -> Event | None:
    agent = _agent_of(namespace, node)
    if node == "__interrupt__":  # the parent repeats the sub-graph's interrupt: shown once, from the parent
        return None if namespace else Event("paused", "compliance", node, "waiting for a human review",
                                            {"review": update[0].value})
    if not namespace and node in SPECIALISTS:
        return Event("finished", agent, node, "finished")
    if node == "supervisor" and isinstance(update, dict) and update.get("route"):
        return Event("route", agent, node, describe(node, update), {"to": update["route"][-1]})
    return Event("step", agent, node, describe(node, update))
