"""Running turns on durable threads: the one place that drives the compiled supervisor graph.

`ThreadRunner` holds the graph (sync and async twins over the same data), its checkpointer and the run
context. The desk and the review code share it instead of reaching into each other. Every operation is
written once, as a generator of steps (`STATE` to read a thread's snapshot, `INVOKE` to run the graph),
and driven either synchronously (`run`) or asynchronously (`arun`), so the sync and async APIs cannot drift.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from agents.conversation import MessageError, validate_message
from app.services import Services
from app.store.checkpoints import aclose_saver, async_checkpointer, close_saver, thread_ids
from graphs.context import SupportContext
from graphs.supervisor import build_graph
from knowledge.pii import find_pii, redact

# Every step's checkpoint is written before the next step starts (LangGraph's default, "async", writes it while
# the next step runs): a process killed mid-run must never leave a thread that skipped a step (`bench crash`).
DURABILITY = "sync"

HOLDING_REPLY = "Your request needs a quick review by our team. We'll get back to you as soon as it's decided."

T = TypeVar("T")
Step = tuple  # ("state", config) or ("invoke", input, config)
Steps = Generator[Step, Any, T]


class UnknownThreadError(LookupError):
    pass


class NoPendingReviewError(LookupError):
    pass


class TurnResult(BaseModel):
    """What one turn (or one resume) produced: the fields `ask --json` prints."""

    thread_id: str
    answer: str | None = None
    outcome: str | None = None
    intent: str | None = None
    confidence: float | None = None
    urgency: str | None = None
    route: list[str] = Field(default_factory=list)
    citations: list[dict] = Field(default_factory=list)
    grounded: bool | None = None
    ticket_id: str | None = None
    ticket: dict | None = None
    policy: dict | None = None
    pending_review: dict | None = None
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


def summarize(thread_id: str, snapshot) -> TurnResult:
    v = snapshot.values or {}
    triage, research = v.get("triage") or {}, v.get("research") or {}
    decision, ticket = v.get("compliance") or {}, v.get("ticket") or {}
    pending = snapshot.interrupts[0].value if snapshot.interrupts else None
    calls = [c for c in v.get("llm_calls") or [] if c.get("turn") == v.get("turn")]  # this turn's calls
    return TurnResult(
        thread_id=thread_id,
        answer=HOLDING_REPLY if pending else v.get("answer"),
        outcome="escalated_pending_review" if pending else v.get("outcome"),
        intent=triage.get("intent"),
        confidence=triage.get("confidence"),
        urgency=triage.get("urgency"),
        route=v.get("route") or [],
        citations=research.get("citations") or [],
        grounded=research.get("grounded"),
        ticket_id=ticket.get("id"),
        ticket=ticket or None,
        policy={k: decision.get(k) for k in ("effect", "rule_id", "policy_version", "status", "reason")}
        if decision else None,
        pending_review=pending,
        llm_calls=len(calls),
        prompt_tokens=sum(c["input_tokens"] for c in calls),
        completion_tokens=sum(c["output_tokens"] for c in calls),
    )


def config_of(thread_id: str) -> dict:
    return {"configurable": {"thread_id": str(thread_id)}}


def holds(snapshot, message_id: str) -> bool:
    return any(getattr(m, "id", None) == message_id for m in (snapshot.values or {}).get("messages", []))


def cut_short(snapshot) -> bool:
    """A run a crash stopped between steps: its last checkpoint still has tasks, to run or with writes not yet
    applied (a message saved as input just before the kill shows no `next` at all). It is carried on before
    anything else: new input on top of it would replace its pending steps and answer two messages as one turn,
    and a re-sent message would look handled (both found by `bench crash`)."""
    return bool(snapshot.tasks) and not snapshot.interrupts


# ---- steps: each operation once, for both drivers --------------------------------------------------------
def carry_on_steps(config: dict, snapshot=None) -> Steps:
    """Finish a run a crash cut short (see `cut_short`); the thread's snapshot afterwards."""
    if snapshot is None:
        snapshot = yield ("state", config)
    if cut_short(snapshot):
        yield ("invoke", None, config)
        snapshot = yield ("state", config)
    return snapshot


def send_steps(payload: dict, config: dict, message_id: str | None) -> Steps:
    """One turn. A message the thread already holds (same `message_id`) is not processed twice; its
    unfinished run is carried on instead."""
    snapshot = yield ("state", config)
    held = bool(message_id) and holds(snapshot, message_id)
    snapshot = yield from carry_on_steps(config, snapshot)
    if not held:
        if snapshot.interrupts:
            raise MessageError(f"thread {config['configurable']['thread_id']} is waiting for a review decision")
        yield ("invoke", payload, config)
        snapshot = yield ("state", config)
    return summarize(config["configurable"]["thread_id"], snapshot)


_sized_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def _size_executor(workers: int) -> None:
    """Sync nodes run on the loop's default executor (min(32, cpus + 4) threads): far too few for
    conversations that mostly wait on an LLM. Give this loop a bigger one, once."""
    loop = asyncio.get_running_loop()
    if loop not in _sized_loops:
        loop.set_default_executor(ThreadPoolExecutor(max_workers=workers, thread_name_prefix="supportflow"))
        _sized_loops.add(loop)


class ThreadRunner:
    """The supervisor graph on one checkpointer, with the services it runs with."""

    def __init__(self, services: Services, checkpointer):
        self.services = services
        self.checkpointer = checkpointer
        self.graph = build_graph(checkpointer=checkpointer)
        self.context = SupportContext(services=services)
        self._agraph = None
        self._alock: asyncio.Lock | None = None

    # ---- reading -------------------------------------------------------------------------------------
    def snapshot(self, thread_id: str):
        return self.graph.get_state(config_of(thread_id))

    def thread_ids(self) -> list[str]:
        return thread_ids(self.checkpointer)

    def prepare(self, message: str, thread_id: str | None = None, customer: dict | None = None,
                message_id: str | None = None) -> tuple[dict, dict]:
        """(graph input, config) for a customer message: validated and redacted before anything is stored."""
        text = validate_message(message)  # bad input is refused before anything is recorded
        tid = thread_id or uuid.uuid4().hex
        # Redact before the graph: LangGraph checkpoints its input as received, so raw personal data
        # would otherwise persist in the thread's first checkpoint. Contacts go to the vault only.
        found = find_pii(text)
        if found:
            self.services.vault.keep(tid, {k: v for k, v in found.items() if k in ("email", "phone")})
            text = redact(text)
        payload: dict[str, Any] = {"messages": [HumanMessage(content=text, id=message_id or uuid.uuid4().hex)]}
        if customer is not None:
            payload["customer"] = dict(customer)
        return payload, config_of(tid)

    # ---- drivers -------------------------------------------------------------------------------------
    def run(self, steps: Steps[T]) -> T:
        """Drive `steps` on the sync graph."""
        stepper = _Stepper(steps)
        while not stepper.done:
            stepper.feed(self._do)
        return stepper.value

    async def arun(self, steps: Steps[T]) -> T:
        """Drive `steps` on the async graph (its own async checkpointer on the same data)."""
        graph, stepper = await self.async_graph(), _Stepper(steps)
        while not stepper.done:
            step = stepper.step
            try:
                if step[0] == "state":
                    result = await graph.aget_state(step[1])
                else:
                    result = await graph.ainvoke(step[1], step[2], context=self.context, durability=DURABILITY)
            except BaseException as exc:
                stepper.fail(exc)
                continue
            stepper.reply(result)
        return stepper.value

    def _do(self, step: Step) -> Any:
        if step[0] == "state":
            return self.graph.get_state(step[1])
        return self.graph.invoke(step[1], step[2], context=self.context, durability=DURABILITY)

    async def async_graph(self):
        if self._agraph is None:
            if self._alock is None:
                self._alock = asyncio.Lock()
            async with self._alock:  # many first calls at once must share one saver
                if self._agraph is None:
                    _size_executor(self.services.settings.async_workers)
                    saver = await async_checkpointer(self.services.settings)
                    self._agraph = build_graph(checkpointer=saver)
        return self._agraph

    # ---- lifecycle -----------------------------------------------------------------------------------
    async def aclose(self) -> None:
        if self._agraph is not None:
            await aclose_saver(self._agraph.checkpointer)
            self._agraph = None

    def close(self) -> None:
        close_saver(self.checkpointer)
        if self._agraph is not None:
            asyncio.run(self.aclose())


class _Stepper:
    """Advances a generator of steps; a step's failure is thrown into it, so its cleanup (a claim) runs now."""

    def __init__(self, steps: Steps):
        self.steps, self.done, self.value = steps, False, None
        self._advance(lambda: next(steps))

    def feed(self, do) -> None:
        try:
            result = do(self.step)
        except BaseException as exc:
            self.fail(exc)
            return
        self.reply(result)

    def reply(self, result: Any) -> None:
        self._advance(lambda: self.steps.send(result))

    def fail(self, exc: BaseException) -> None:
        self._advance(lambda: self.steps.throw(exc))

    def _advance(self, move) -> None:
        try:
            self.step = move()
        except StopIteration as stop:
            self.done, self.value = True, stop.value
