"""Public Python API: `build_supervisor()` and the `SupportDesk` facade (sync and async).

    with SupportDesk(data_dir="./.support-data") as desk:      # or `async with` around `await desk.asend(...)`
        result = desk.send("I want a refund of $900 for order #48213")
        if result.pending_review:
            desk.resume(result.thread_id, {"decisions": [{"type": "approve", "reviewer": "ana"}]})

The facade only composes: a turn is one operation (`_turn`: app/threads.py `send_steps`, then a solved ticket
reopens) that `ThreadRunner` drives synchronously (`send`), asynchronously (`asend`) or streaming its progress
(`stream`); reviews are in `app.review.reviews.Reviews`.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from agents.compliance.hitl import ReviewPayloadError, lowers_amount
from agents.supervisor.conversation import MessageError, validate_message
from app.access import ThreadAccess
from app.identity import LOCAL, Principal
from app.review.customer_notes import pending_steps
from app.review.inbox import DEFAULT_LIMIT, paused_threads
from app.review.reviews import Reviews
from app.services import Services
from app.settings import Settings
from app.steps import Call, Steps
from app.store.asides import merged
from app.store.checkpoints import checkpointer as make_checkpointer
from app.store.owners import MessageIdConflictError
from app.store.thread_locks import ThreadBusyError
from app.streaming import TurnStream
from app.thread_ids import check_not_personal
from app.threads import (
    DURABILITY,
    InvalidThreadIdError,
    NoPendingReviewError,
    ThreadRunner,
    UnknownThreadError,
    carry_on_steps,
    config_of,
    send_steps,
)
from app.ticket_ops import TicketDesk
from app.turn_result import HOLDING_REPLY, TurnResult, turn_result
from graphs.supervisor import build_graph


def build_supervisor(checkpointer=None):
    """The compiled supervisor graph. Pass a LangGraph checkpointer for threads and human review."""
    return build_graph(checkpointer=checkpointer)


class SupportDesk:
    """Send messages and resume reviews on durable threads under one data directory.

    One run at a time per thread, across processes: a message (or decision) for a busy thread waits up to
    `lock_timeout` seconds, then raises ThreadBusyError (nothing recorded; send it again).
    """

    def __init__(self, services: Services | None = None, data_dir: str | Path | None = None, checkpointer=None,
                 lock_timeout: float | None = None):
        if services is None:
            settings = Settings(data_dir=Path(data_dir)) if data_dir else Settings()
            services = Services.from_settings(settings)
        self.services = services
        services.check()  # fail fast on an invalid policy, taxonomy or examples file
        services.warm_language()  # once per process; recorded as warm-up, not as the first turn's triage time
        self.runner = ThreadRunner(services, checkpointer or make_checkpointer(services.settings), lock_timeout)
        self.checkpointer = self.runner.checkpointer
        self.graph = self.runner.graph
        self.access = ThreadAccess(services.owners, self.runner.snapshot)
        self.reviews = Reviews(self.runner)
        self.tickets = TicketDesk(self.runner)
        self._on_pending = partial(pending_steps, services)

    # ---- conversations: one operation, three drivers ---------------------------------------------------
    def send(self, message: str, thread_id: str | None = None, customer: dict | None = None,
             message_id: str | None = None, caller: Principal = LOCAL) -> TurnResult:
        """Run one turn for `caller` (app/identity.py; default: the server's own code). With `message_id`,
        sending again is safe: the same `(channel, message_id)` is one turn, with or without `thread_id`, and
        other text under it is refused (MessageIdConflictError). A message for a thread waiting for a review is
        accepted too (app/review/customer_notes.py). `customer` facts (verified, tier, id) are taken only from
        trusted callers; a channel's customer is `caller.customer`, from a signature."""
        return self.runner.run(self._turn(message, thread_id, customer, message_id, caller))

    async def asend(self, message: str, thread_id: str | None = None, customer: dict | None = None,
                    message_id: str | None = None, caller: Principal = LOCAL) -> TurnResult:
        return await self.runner.arun(self._turn(message, thread_id, customer, message_id, caller))

    def stream(self, message: str, thread_id: str | None = None, customer: dict | None = None,
               message_id: str | None = None, caller: Principal = LOCAL) -> TurnStream[TurnResult]:
        """`send`, yielding progress events while the turn runs (app/streaming.py `Event`); `.result` is the
        TurnResult once they are read. Everything else is `send`'s, the thread's lock included."""
        return self.runner.stream(self._turn(message, thread_id, customer, message_id, caller))

    def _turn(self, message: str, thread_id: str | None, customer: dict | None, message_id: str | None,
              caller: Principal) -> Steps[TurnResult]:
        """The turn's steps. Its input is checked and its thread resolved now, when the turn is asked for, so a
        refusal (bad input, another caller's thread, a reused message id) reaches the caller before anything
        runs or streams."""
        text = validate_message(message)  # bad input is refused before any id is claimed or recorded
        if customer is not None and not caller.trusted:
            raise MessageError("customer facts come from the caller's signed identity, not from the message")
        if customer is None and not (caller.trusted and caller.customer.anonymous):
            customer = caller.customer_facts()
        if customer and customer.get("id") is not None:
            check_not_personal(str(customer["id"]), "customer id")
        thread_id = self.access.for_message(caller, text, thread_id, message_id)
        payload, config = self.runner.prepare(text, thread_id, customer, message_id)
        return self._turn_steps(payload, config, message_id)

    def _turn_steps(self, payload: dict, config: dict, message_id: str | None) -> Steps[TurnResult]:
        result = yield from send_steps(payload, config, message_id, self._on_pending)
        # The customer wrote again: a solved ticket on the thread reopens.
        yield Call(lambda _runner: self.tickets.reopen_if_solved(result.thread_id), config)
        return result

    def threads_of(self, caller: Principal, limit: int = 50) -> list[dict]:
        """The signed-in customer's conversations on `caller`'s channel, newest first ([] when anonymous)."""
        return self.access.threads_of(caller, limit)

    def carry_on(self, config: dict, snapshot=None):
        """Finish a run a crash cut short; the thread's snapshot afterwards."""
        return self.runner.run(carry_on_steps(config, snapshot))

    def get(self, thread_id: str, caller: Principal = LOCAL) -> TurnResult:
        thread_id = self.access.open(thread_id, caller)
        snapshot = self.runner.snapshot(thread_id)
        if not snapshot.values:
            raise UnknownThreadError(f"unknown thread id {thread_id!r}")
        return turn_result(thread_id, snapshot)

    def history(self, thread_id: str, caller: Principal = LOCAL) -> list[dict[str, Any]]:
        """The conversation as the customer had it: the thread's messages, and in place the exchanges a waiting
        review kept out of them (app/store/asides.py, marked `aside`)."""
        snap = self.runner.snapshot(self.access.open(thread_id, caller))
        messages = [{"role": m.type, "content": str(m.content), "name": getattr(m, "name", None), "aside": False}
                    for m in (snap.values or {}).get("messages", [])]
        return merged(messages, self.services.asides.of_thread(thread_id))

    # ---- human review ----------------------------------------------------------------------------------
    def resume(self, thread_id: str, decision: dict[str, Any]) -> TurnResult:
        """Reviewer checked against the registry, durable claim, then one resume (app/review/door.py)."""
        return self.reviews.decide(thread_id, decision)

    async def aresume(self, thread_id: str, decision: dict[str, Any]) -> TurnResult:
        return await self.reviews.adecide(thread_id, decision)

    def approve(self, thread_id: str, reviewer: str, note: str | None = None) -> TurnResult:
        return self.resume(thread_id, {"decisions": [{"type": "approve", "reviewer": reviewer, "note": note}]})

    def reject(self, thread_id: str, reviewer: str, message: str | None = None) -> TurnResult:
        return self.resume(thread_id, {"decisions": [{"type": "reject", "reviewer": reviewer, "message": message}]})

    def edit(self, thread_id: str, reviewer: str, args: dict[str, Any], message: str | None = None,
             explain_lower: bool = False) -> TurnResult:
        """Change the paused action's arguments (the policy is checked again on the result). `message` is what the
        customer is told about the change; with `explain_lower` (the doors people use: console, HTTP) an edit
        that lowers the amount is refused without one."""
        pending = self.get(thread_id).pending_review
        if not pending:
            raise NoPendingReviewError(f"thread {thread_id} has no pending review")
        action = pending["action_requests"][0]
        edited = {"name": action["name"], "args": {**action["args"], **args}}
        if explain_lower and lowers_amount(action["args"], edited["args"]) and not (message or "").strip():
            raise ReviewPayloadError("this edit approves less than the customer asked for: add a message telling "
                                     "them why (they see it with the decision)")
        return self.resume(thread_id, {"decisions": [{"type": "edit", "reviewer": reviewer, "edited_action": edited,
                                                      **({"message": message} if message else {})}]})

    def pending_reviews(self) -> list[dict[str, Any]]:
        """Every paused thread, most urgent first: found through the index of pending reviews, each read back from
        its thread (app/review/inbox.py); `inbox` adds who may decide each and how urgent it is."""
        return [{"thread_id": tid, "created_at": snap.created_at, "request": snap.values.get("request"),
                 "customer": snap.values.get("customer") or {}, "review": snap.interrupts[0].value}
                for tid, snap in paused_threads(self.runner)]

    def inbox(self, queue: str | None = None, reviewer: str | None = None, limit: int | None = DEFAULT_LIMIT,
              offset: int = 0) -> list[dict[str, Any]]:
        """A page of pending reviews, most urgent first (`limit=None`: all of them)."""
        return self.reviews.inbox(queue=queue, reviewer=reviewer, limit=limit, offset=offset)

    def review_groups(self, queue: str | None = None, reviewer: str | None = None) -> list[dict[str, Any]]:
        return self.reviews.groups(queue=queue, reviewer=reviewer)

    def decide_group(self, group_id: str, decision: str, reviewer: str, note: str | None = None,
                     message: str | None = None) -> dict[str, Any]:
        return self.reviews.decide_group(group_id, decision, reviewer, note=note, message=message)

    def sla_sweep(self, now: float | None = None) -> list[dict[str, Any]]:
        return self.reviews.sla_sweep(now=now)

    # ---- lifecycle: `with SupportDesk(...) as desk:` / `async with SupportDesk(...) as desk:` ---------------
    async def aclose(self) -> None:
        await self.runner.aclose()

    def close(self) -> None:
        self.runner.close()
        self.services.close_systems()

    def __enter__(self) -> SupportDesk:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    async def __aenter__(self) -> SupportDesk:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()
        self.close()


__all__ = ["SupportDesk", "Principal", "LOCAL", "MessageIdConflictError", "TurnResult", "build_supervisor",
           "UnknownThreadError", "NoPendingReviewError", "ReviewPayloadError", "MessageError", "ThreadBusyError",
           "InvalidThreadIdError", "DURABILITY", "HOLDING_REPLY", "config_of"]
