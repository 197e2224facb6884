"""Running turns on durable threads: the one place that drives the compiled supervisor graph.

`ThreadRunner` holds the graph (sync and async twins over the same data), its checkpointer and the run
context. The desk and the review code share it instead of reaching into each other. Every operation is
written once, as a generator of steps (`STATE` to read a thread's snapshot, `INVOKE` to run the graph),
and driven either synchronously (`run`) or asynchronously (`arun`), so the sync and async APIs cannot drift.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Generator
from typing import Any, TypeVar

from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from agents.supervisor.conversation import MessageError, validate_message
from app.async_graph import LoopGraph
from app.services import Services
from app.stepper import Stepper
from app.store.checkpoints import close_saver, thread_ids
from app.store.thread_locks import Lease, ThreadLocks
from app.thread_ids import InvalidThreadIdError as InvalidThreadIdError  # re-exported: callers import them here
from app.thread_ids import UnknownThreadError as UnknownThreadError
from app.thread_ids import check_thread_id
from graphs.context import SupportContext
from graphs.supervisor import ENTRY, build_graph
from knowledge.pii import find_pii, redact

# Review resumes and the saving of a new message write every step's checkpoint before the next step starts
# (LangGraph's default, "async", writes it while the next step runs): a process killed mid-run must never leave a
# thread that skipped a step (`bench crash`).
DURABILITY = "sync"
# A new message is first saved as the thread's input (`save`: a checkpoint that stops before the entry node), then
# its turn runs to the end with one checkpoint when it stops (`finish`). A simple question wrote 18 checkpoints and
# 94 pending writes with "sync" all the way, and worker processes sharing one database mostly waited on each other's
# writes (README, `bench serve`). A crash mid-turn still loses nothing: the thread is left at its saved input, which
# `cut_short` sees, so the next message (or a retry) runs the whole turn again; every side effect of a turn is keyed
# by thread, turn and message (tickets, notifications, audit entries, review ids), so nothing happens twice.
# Review decisions resume with "sync", so a decision is on record before what follows it runs.
RUN_DURABILITY = "exit"
INVOKES = {"invoke": {"durability": DURABILITY},
           "save": {"durability": DURABILITY, "interrupt_before": [ENTRY]},
           "finish": {"durability": RUN_DURABILITY}}

# How long a message waits for the run already on its thread before ThreadBusyError (SUPPORT_THREAD_LOCK_TIMEOUT).
LOCK_TIMEOUT = 60.0

HOLDING_REPLY = "Your request needs a quick review by our team. We'll get back to you as soon as it's decided."

T = TypeVar("T")
# ("state", config), ("peek", config): a read without the thread lock; ("invoke", input, config), ("save", input,
# config), ("finish", None, config): graph runs, with the options in INVOKES; or ("call", fn, config): `fn(runner)`
# run under the thread's lock (in a worker thread by the async driver), e.g. a stateless sub-graph for a message
# that arrives while the thread waits for a review.
Step = tuple
Steps = Generator[Step, Any, T]
OnPending = Callable[[dict, dict, Any], "Steps[TurnResult]"]


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
        answer=held_reply(v) if pending else v.get("answer"),
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


def held_reply(values: dict) -> str:
    """The reply while part of the turn waits for a review: the replies of the turn's finished requests (e.g. a
    password answer given with the paused refund) first, then the holding reply."""
    parts = sorted(values.get("parts") or [], key=lambda p: p.get("index", 0))
    done = [p["reply"]["text"] for p in parts if (p.get("reply") or {}).get("text")]
    return "\n\n".join([*done, HOLDING_REPLY])


def config_of(thread_id: str) -> dict:
    return {"configurable": {"thread_id": check_thread_id(thread_id)}}


def thread_of_step(step: Step) -> str:
    return check_thread_id((step[-1].get("configurable") or {}).get("thread_id"))


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
        yield ("finish", None, config)
        snapshot = yield ("state", config)
    return snapshot


def send_steps(payload: dict, config: dict, message_id: str | None, on_pending: OnPending | None = None) -> Steps:
    """One turn. A message the thread already holds (same `message_id`) is not processed twice; its
    unfinished run is carried on instead. A message for a thread waiting for a review goes to `on_pending`
    (app/review/customer_notes.py: a note for the reviewer, an answer, or a withdrawal), under the same lock."""
    snapshot = yield ("state", config)
    held = bool(message_id) and holds(snapshot, message_id)
    snapshot = yield from carry_on_steps(config, snapshot)
    if not held:
        if snapshot.interrupts:
            if on_pending is None:
                raise MessageError(f"thread {config['configurable']['thread_id']} is waiting for a review decision")
            return (yield from on_pending(payload, config, snapshot))
        yield ("save", payload, config)  # the message is on record before any step of its turn runs
        yield ("finish", None, config)
        snapshot = yield ("state", config)
    return summarize(config["configurable"]["thread_id"], snapshot)


class ThreadRunner:
    """The supervisor graph on one checkpointer, with the services it runs with.

    Every run (`run`/`arun`: turns, carry-ons, review resumes) holds its thread's lock in the database
    (app/store/thread_locks.py) from its first step to its last, so one thread has one writer at a time
    across threads, tasks and processes. A run waits up to `lock_timeout` seconds, then ThreadBusyError.
    """

    def __init__(self, services: Services, checkpointer, lock_timeout: float | None = None):
        self.services = services
        self.checkpointer = checkpointer
        self.graph = build_graph(checkpointer=checkpointer)
        self.context = SupportContext(services=services)
        settings = services.settings
        if lock_timeout is None:  # SUPPORT_THREAD_LOCK_TIMEOUT, once settings carry it
            lock_timeout = getattr(settings, "thread_lock_timeout", None)
        self.locks = ThreadLocks(settings.store_target, timeout=LOCK_TIMEOUT if lock_timeout is None else lock_timeout)
        self._async = LoopGraph(settings, build_graph)

    # ---- reading -------------------------------------------------------------------------------------
    def snapshot(self, thread_id: str):
        return self.graph.get_state(config_of(thread_id))

    def thread_ids(self) -> list[str]:
        return thread_ids(self.checkpointer)

    def prepare(self, message: str, thread_id: str | None = None, customer: dict | None = None,
                message_id: str | None = None) -> tuple[dict, dict]:
        """(graph input, config) for a customer message: validated and redacted before anything is stored."""
        text = validate_message(message)  # bad input is refused before anything is recorded
        tid = check_thread_id(thread_id) if thread_id else uuid.uuid4().hex
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

    # ---- one writer per thread -----------------------------------------------------------------------
    def hold(self, thread_id: str, timeout: float | None = None):
        """`with runner.hold(tid):` (or `async with`) for a caller driving the graph itself (e.g. streaming a
        turn). Runs by the same owner inside it (`desk.carry_on`, `desk.send`) share the hold; others wait."""
        return self.locks.hold(check_thread_id(thread_id), timeout)

    def _lease(self, step: Step, lease: Lease | None) -> Lease:
        thread_id = thread_of_step(step)
        if lease is None:
            return self.locks.acquire(thread_id)
        _same_thread(lease, thread_id)
        lease.renew()
        return lease

    async def _alease(self, step: Step, lease: Lease | None) -> Lease:
        thread_id = thread_of_step(step)
        if lease is None:
            return await self.locks.aacquire(thread_id)
        _same_thread(lease, thread_id)
        await asyncio.to_thread(lease.renew)
        return lease

    # ---- drivers -------------------------------------------------------------------------------------
    def run(self, steps: Steps[T]) -> T:
        """Drive `steps` on the sync graph, holding the thread's lock throughout."""
        stepper, lease = Stepper(steps), None
        try:
            while not stepper.done:
                try:
                    if stepper.step[0] != "peek":  # a peek reads without taking the thread's lock
                        lease = self._lease(stepper.step, lease)
                except BaseException as exc:  # busy, lost or a bad thread id: nothing of this step ran
                    stepper.fail(exc)
                    continue
                stepper.feed(self._do)
        finally:
            if lease is not None:
                lease.release()
        return stepper.value

    async def arun(self, steps: Steps[T]) -> T:
        """Drive `steps` on the async graph (its own async checkpointer on the same data), holding the lock."""
        graph, stepper, lease = await self.async_graph(), Stepper(steps), None
        try:
            while not stepper.done:
                step = stepper.step
                try:
                    if step[0] != "peek":  # a peek reads without taking the thread's lock
                        lease = await self._alease(step, lease)
                    if step[0] in ("state", "peek"):
                        result = await graph.aget_state(step[1])
                    elif step[0] == "call":
                        result = await asyncio.to_thread(step[1], self)
                    else:
                        result = await graph.ainvoke(step[1], step[2], context=self.context, **INVOKES[step[0]])
                except BaseException as exc:
                    stepper.fail(exc)
                    continue
                stepper.reply(result)
        finally:
            if lease is not None:
                await lease.arelease()
        return stepper.value

    def _do(self, step: Step) -> Any:
        if step[0] in ("state", "peek"):
            return self.graph.get_state(step[1])
        if step[0] == "call":
            return step[1](self)
        return self.graph.invoke(step[1], step[2], context=self.context, **INVOKES[step[0]])

    async def async_graph(self):
        """The async graph on the running event loop (its saver is closed with that loop: app/async_graph.py)."""
        return await self._async.graph()

    # ---- lifecycle -----------------------------------------------------------------------------------
    async def aclose(self) -> None:
        await self._async.aclose()

    def close(self) -> None:
        close_saver(self.checkpointer)
        self._async.close()


def _same_thread(lease: Lease, thread_id: str) -> None:
    if thread_id != lease.thread_id:
        raise ValueError(f"one run drives one thread: {lease.thread_id!a}, then {thread_id!a}")
