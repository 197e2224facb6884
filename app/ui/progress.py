"""Run one chat turn while streaming what the graph does, so the UI can show who is working.

The desk's `send` returns only when the turn is over; the console wants per-agent progress
(`stream_mode="updates"` with sub-graphs) and, in LLM mode, the answer as it is generated
(`stream_mode="messages"`). Input preparation (validation, redaction, contact vault) is the
desk's own, so a streamed turn records exactly what `SupportDesk.send` would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from langchain_core.utils.json import parse_partial_json

from app.desk import DURABILITY, MessageError, SupportDesk

AGENTS = {"intake": "Intake", "triage": "Triage", "supervisor": "Supervisor", "research": "Research",
          "compliance": "Compliance", "ticketing": "Ticketing", "respond": "Reply"}
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

    def feed(self, message: Any) -> str | None:
        chunks = getattr(message, "tool_call_chunks", None) or []
        if chunks:
            self.args += "".join(c.get("args") or "" for c in chunks)
        elif getattr(message, "tool_calls", None):  # a non-streaming model delivers the whole call
            self.args = ""
            text = str((message.tool_calls[0].get("args") or {}).get("answer") or "")
            return self._set(text)
        elif isinstance(message.content, str) and message.content:
            return self._set(self.text + message.content)
        parsed = parse_partial_json(self.args) if self.args else None
        return self._set(str(parsed.get("answer") or "")) if isinstance(parsed, dict) else None

    def _set(self, text: str) -> str | None:
        if text and text != self.text:
            self.text = text
            return text
        return None


def streams_tokens(desk: SupportDesk) -> bool:
    """Stream LLM tokens only if every model still reports usage when streamed: an OpenAI client on a
    custom base URL streams without token counts unless `stream_usage` is on, and the run metrics
    must stay exact. Offline there is nothing to stream."""
    models = desk.services.models
    if models is None:
        return False
    return all(getattr(models.for_role(role), "stream_usage", True) for role in ("triage", "research"))


def stream_turn(desk: SupportDesk, message: str, thread_id: str, customer: dict | None = None) -> Iterator[Event]:
    """Like `desk.send`, but yields progress events; read the result with `desk.get(thread_id)`.

    The whole streamed run holds the thread's lock (`desk.runner.hold`), as `desk.send` does, so a reply
    from a person or a second tab cannot write to the thread between its steps; the lease is renewed as
    steps finish. Afterwards a solved ticket on the thread reopens, as after `desk.send`."""
    payload, config = desk.runner.prepare(message, thread_id, customer)
    with desk.runner.hold(thread_id) as lease:
        if desk.carry_on(config).interrupts:
            raise MessageError(f"thread {thread_id} is waiting for a review decision")
        yield from _stream(desk, payload, config, lease)
    desk.tickets.reopen_if_solved(thread_id)


def _stream(desk: SupportDesk, payload: dict, config: dict, lease) -> Iterator[Event]:
    draft = _Draft()
    modes = ["updates", "messages"] if streams_tokens(desk) else ["updates"]
    for namespace, mode, chunk in desk.graph.stream(payload, config, context=desk.runner.context, durability=DURABILITY,
                                                    stream_mode=modes, subgraphs=True):
        if mode == "messages":
            msg, meta = chunk
            if meta.get("langgraph_node") == DRAFT_NODE and (text := draft.feed(msg)):
                yield Event("token", "research", DRAFT_NODE, text)
            continue
        lease.renew()  # a step finished: the run is alive (a long LLM turn must not look stale)
        for node, update in chunk.items():
            agent = _agent_of(namespace, node)
            if node == "__interrupt__":
                if not namespace:  # the parent repeats the sub-graph's interrupt
                    yield Event("paused", "compliance", node, "waiting for a human review",
                                {"review": update[0].value})
                continue
            if not namespace and node in SPECIALISTS:
                yield Event("finished", agent, node, "finished")
                continue
            if node == "supervisor" and isinstance(update, dict) and update.get("route"):
                yield Event("route", agent, node, describe(node, update), {"to": update["route"][-1]})
                continue
            yield Event("step", agent, node, describe(node, update))
