"""Conversation endpoints for channels: send a message (plain or streamed) and read a thread.

A client `message_id` makes a send idempotent: retrying after a timeout or a crashed worker answers the same turn
once (the desk carries an unfinished run on instead of starting another).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from app.http.auth import Caller, channel
from app.http.deps import desk_of
from app.turn_result import TurnResult

router = APIRouter(tags=["conversations"])


class Customer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(None, max_length=200)
    verified: bool | None = None
    tier: str | None = Field(None, max_length=50)
    account_age_days: int | None = Field(None, ge=0)


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(description="The customer's message (validated and redacted before anything is stored).")
    thread_id: str | None = Field(None, max_length=200, description="Continue a conversation; omitted = a new one.")
    message_id: str | None = Field(None, max_length=200, description="Client id that makes the send idempotent.")
    customer: Customer | None = None


def _customer(c: Customer | None) -> dict[str, Any] | None:
    return c.model_dump(exclude_none=True) if c is not None else None


@router.post("/messages", response_model=TurnResult)
async def post_message(body: MessageIn, request: Request, caller: Caller = Depends(channel)) -> TurnResult:
    """One customer turn; answers with the turn summary `ask --json` prints."""
    desk = desk_of(request)
    return await desk.asend(body.message, thread_id=body.thread_id, customer=_customer(body.customer),
                            message_id=body.message_id)


@router.get("/messages/stream")
async def stream_message(request: Request, message: str = Query(...), thread_id: str = Query(..., max_length=200),
                         message_id: str | None = Query(None, max_length=200,
                                                        description="Client id that makes the send idempotent."),
                         caller: Caller = Depends(channel)) -> StreamingResponse:
    """Server-sent events: each specialist's progress (`step`, `route`, `finished`, `paused`), answer tokens in
    LLM mode (`token`), then `result` with the turn summary (or `error`). The same turn as `POST /messages`
    (`SupportDesk.stream`): a message for a paused review, a retried `message_id`, a run a crash cut short."""
    desk = desk_of(request)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def produce() -> None:  # the graph streams synchronously; hand each event to the loop as it comes
        try:
            turn = desk.stream(message, thread_id=thread_id, message_id=message_id)
            for event in turn:
                loop.call_soon_threadsafe(queue.put_nowait, ("progress", asdict(event)))
            loop.call_soon_threadsafe(queue.put_nowait, ("result", turn.result.model_dump()))
        except Exception as exc:  # bad input, busy thread: an `error` event, then the stream ends
            loop.call_soon_threadsafe(queue.put_nowait, ("error", {"error": str(exc)}))
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=produce, daemon=True, name="supportflow-stream").start()

    async def events() -> AsyncIterator[str]:
        while (item := await queue.get()) is not None:
            kind, data = item
            yield f"event: {kind}\ndata: {json.dumps(data, default=str)}\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


@router.get("/threads/{thread_id}")
def get_thread(thread_id: str, request: Request, caller: Caller = Depends(channel)) -> dict[str, Any]:
    """The thread's latest turn summary and its conversation so far."""
    desk = desk_of(request)
    return {**desk.get(thread_id).model_dump(), "messages": desk.history(thread_id)}
