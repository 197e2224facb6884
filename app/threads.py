"""Running turns on durable threads: the one place that runs the compiled supervisor graph.

`ThreadRunner` holds the graph (sync and async twins over the same data), its checkpointer and the run
context. The desk and the review code share it instead of reaching into each other. Every operation is
written once, as a generator of typed steps (app/steps.py: `ReadState`, `Peek`, `Run`, `Call`), and driven
synchronously (`run`), asynchronously (`arun`) or streaming its progress (`stream`), so the sync, async and
streamed APIs cannot drift: `SupportDesk.send` → `send_steps` → `Run` → `ThreadRunner._execute` → `graph.invoke`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Generator
from typing import Any, TypeVar

from langchain_core.messages import HumanMessage

from agents.research.links import allowed_domains
from agents.supervisor.conversation import validate_message
from app.async_graph import LoopGraph
from app.services import Services
from app.steps import Call, Peek, ReadState, Run, Step, Stepper, Steps
from app.store.checkpoints import close_saver, thread_ids
from app.store.pending_reviews import PendingReviews
from app.store.thread_locks import Lease, ThreadLocks
from app.streaming import Event, Progress, TurnStream, stream_modes
from app.thread_ids import InvalidThreadIdError as InvalidThreadIdError  # re-exported: callers import them here
from app.thread_ids import UnknownThreadError as UnknownThreadError
from app.thread_ids import check_thread_id
from app.turn_result import TurnResult, turn_result
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

T = TypeVar("T")
# A message for a thread waiting for a review: app/review/customer_notes.py `pending_steps`, bound to the services.
OnPending = Callable[[dict, dict, Any], Steps[TurnResult]]


class NoPendingReviewError(LookupError):
    pass


def config_of(thread_id: str) -> dict:
    return {"configurable": {"thread_id": check_thread_id(thread_id)}}


def thread_of(step: Step) -> str:
    return check_thread_id((step.config.get("configurable") or {}).get("thread_id"))


def holds(snapshot, message_id: str) -> bool:
    return any(getattr(m, "id", None) == message_id for m in (snapshot.values or {}).get("messages", []))


def cut_short(snapshot) -> bool:
    """A run a crash stopped between steps: its last checkpoint still has tasks, to run or with writes not yet
    applied (a message saved as input just before the kill shows no `next` at all). It is carried on before
    anything else: new input on top of it would replace its pending steps and answer two messages as one turn,
    and a re-sent message would look handled (both found by `bench crash`)."""
    return bool(snapshot.tasks) and not snapshot.interrupts


# ---- operations: each written once, for every driver ----------------------------------------------------
def carry_on_steps(config: dict, snapshot=None) -> Steps:
    """Finish a run a crash cut short (see `cut_short`); the thread's snapshot afterwards."""
    if snapshot is None:
        snapshot = yield ReadState(config)
    if cut_short(snapshot):
        yield Run(None, config, "finish")
        snapshot = yield ReadState(config)
    return snapshot


def send_steps(payload: dict, config: dict, message_id: str | None, on_pending: OnPending) -> Steps:
    """One turn. A message the thread already holds (same `message_id`) is not processed twice; its
    unfinished run is carried on instead. A message for a thread waiting for a review goes to `on_pending`
    (app/review/customer_notes.py: a note for the reviewer, an answer, or a withdrawal), under the same lock."""
    snapshot = yield ReadState(config)
    held = bool(message_id) and holds(snapshot, message_id)
    snapshot = yield from carry_on_steps(config, snapshot)
    if not held:
        if snapshot.interrupts:
            return (yield from on_pending(payload, config, snapshot))
        yield Run(payload, config, "save")  # the message is on record before any step of its turn runs
        yield Run(None, config, "finish", progress=True)
        snapshot = yield ReadState(config)
    return turn_result(config["configurable"]["thread_id"], snapshot)


class ThreadRunner:
    """The supervisor graph on one checkpointer, with the services it runs with.

    Every run (`run`/`arun`/`stream`: turns, carry-ons, review resumes) holds its thread's lock in the database
    (app/store/thread_locks.py) from its first step to its last, so one thread has one writer at a time
    across threads, tasks and processes. A run waits up to `lock_timeout` seconds
    (SUPPORT_THREAD_LOCK_TIMEOUT by default), then ThreadBusyError.
    """

    def __init__(self, services: Services, checkpointer, lock_timeout: float | None = None):
        self.services = services
        self.checkpointer = checkpointer
        self.graph = build_graph(checkpointer=checkpointer)
        self.context = SupportContext(services=services)
        settings = services.settings
        timeout = settings.thread_lock_timeout if lock_timeout is None else lock_timeout
        self.locks = ThreadLocks(settings.store_target, timeout=timeout)
        # The index of pending reviews the inbox reads; the drivers below are the only writers that keep it true.
        self.pending = PendingReviews(settings.store_target, lambda amount, cur: services.policy.to_base(amount, cur))
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
        """`with runner.hold(tid):` (or `async with`) for a caller writing to the thread itself (a person's reply,
        app/ticket_ops.py). Runs by the same owner inside it (`desk.send`) share the hold; others wait."""
        return self.locks.hold(check_thread_id(thread_id), timeout)

    def _lease(self, step: Step, lease: Lease | None) -> Lease:
        thread_id = thread_of(step)
        if lease is None:
            return self.locks.acquire(thread_id)
        _same_thread(lease, thread_id)
        lease.renew()
        return lease

    async def _alease(self, step: Step, lease: Lease | None) -> Lease:
        thread_id = thread_of(step)
        if lease is None:
            return await self.locks.aacquire(thread_id)
        _same_thread(lease, thread_id)
        await asyncio.to_thread(lease.renew)
        return lease

    # ---- drivers: each dispatches a step in one place (`_execute`, `_aexecute`) ------------------------
    def run(self, steps: Steps[T]) -> T:
        """Drive `steps` on the sync graph, holding the thread's lock throughout."""
        driven = TurnStream(self._drive(steps, streamed=False))
        for _ in driven:  # nothing is streamed: no events
            pass
        return driven.result

    def stream(self, steps: Steps[T]) -> TurnStream[T]:
        """`run`, but the operation's progress run (a turn's own) is streamed: iterate for its events
        (app/streaming.py), then read `.result`. The lock is held throughout and renewed as steps finish."""
        return TurnStream(self._drive(steps, streamed=True))

    def _drive(self, steps: Steps[T], streamed: bool) -> Generator[Event, None, T]:
        # `ran`: the thread a Run changed, whose pending-review row is marked before its first Run and settled from
        # its final state (`final`: the last ReadState after the last Run, else read once) when the operation ends.
        stepper, lease, ran, final = Stepper(steps), None, None, None
        try:
            while not stepper.done:
                step = stepper.step
                try:
                    if not isinstance(step, Peek):  # a peek reads without taking the thread's lock
                        lease = self._lease(step, lease)
                    if isinstance(step, Run):  # only a Run writes to the thread (a Call runs graphs of its own)
                        ran, final = ran or self.pending.mark(thread_of(step)), None
                    if streamed and isinstance(step, Run) and step.progress:
                        result = yield from self._stream_run(step, lease)
                    else:
                        result = self._execute(step)
                except BaseException as exc:  # busy, lost, a bad thread id or a failed step: the operation decides
                    stepper.fail(exc)
                    continue
                final = result if isinstance(step, ReadState) else final
                stepper.reply(result)
        finally:
            if ran is not None:  # every run ends here, so the index follows every thread
                self.pending.settle(ran, final, lambda: self.graph.get_state({"configurable": {"thread_id": ran}}))
            if lease is not None:
                lease.release()
        return stepper.value

    def _execute(self, step: Step) -> Any:
        match step:
            case ReadState() | Peek():
                return self.graph.get_state(step.config)
            case Call():
                return step.fn(self)
            case Run():
                self.graph.invoke(step.input, step.config, context=self.context, **INVOKES[step.kind])
                return None
        raise TypeError(f"not a step: {step!r}")

    def _stream_run(self, run: Run, lease: Lease) -> Generator[Event, None, None]:
        progress = Progress(allowed_domains(self.services.settings.link_allowlist))
        for namespace, mode, chunk in self.graph.stream(run.input, run.config, context=self.context,
                                                        stream_mode=stream_modes(self.services), subgraphs=True,
                                                        **INVOKES[run.kind]):
            if mode == "updates":
                lease.renew()  # a step finished: the run is alive (a long LLM turn must not look stale)
            yield from progress.events(namespace, mode, chunk)

    async def arun(self, steps: Steps[T]) -> T:
        """Drive `steps` on the async graph (its own async checkpointer on the same data), holding the lock."""
        graph, stepper, lease, ran, final = await self.async_graph(), Stepper(steps), None, None, None
        try:
            while not stepper.done:
                step = stepper.step
                try:
                    if not isinstance(step, Peek):  # a peek reads without taking the thread's lock
                        lease = await self._alease(step, lease)
                    if isinstance(step, Run):  # the index of pending reviews: as in `_drive`
                        ran, final = ran or await asyncio.to_thread(self.pending.mark, thread_of(step)), None
                    result = await self._aexecute(graph, step)
                except BaseException as exc:
                    stepper.fail(exc)
                    continue
                final = result if isinstance(step, ReadState) else final
                stepper.reply(result)
        finally:
            if ran is not None:
                await self.pending.asettle(ran, final, lambda: graph.aget_state({"configurable": {"thread_id": ran}}))
            if lease is not None:
                await lease.arelease()
        return stepper.value

    async def _aexecute(self, graph, step: Step) -> Any:
        match step:
            case ReadState() | Peek():
                return await graph.aget_state(step.config)
            case Call():
                return await asyncio.to_thread(step.fn, self)
            case Run():
                await graph.ainvoke(step.input, step.config, context=self.context, **INVOKES[step.kind])
                return None
        raise TypeError(f"not a step: {step!r}")

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
