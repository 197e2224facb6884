"""Conversation endpoints for channels: send a message (plain or streamed) and read a thread.

A thread belongs to the channel that created it and to its signed customer (app/access.py); everyone else gets 404.
A client `message_id` makes a send idempotent per channel: retrying after a timeout or a crashed worker answers
the same turn once, with or without `thread_id` (the desk carries an unfinished run on instead of starting another).
Responses carry only what the customer may see (`CustomerTurn`).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from app.http.auth import Caller, channel
from app.http.deps import desk_of
from app.identity import Principal
from app.turn_result import CustomerTurn

router = APIRouter(tags=["conversations"])


class Customer(BaseModel):
    """Accepted for compatibility and ignored: who the customer is comes from `X-Customer-Token` only."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(None, max_length=200)
    verified: bool | None = None
    tier: str | None = Field(None, max_length=50)
    account_age_days: int | None = Field(None, ge=0)


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(description="The customer's message (validated and redacted before anything is stored).")
    thread_id: str | None = Field(None, max_length=200, description="Continue a conversation; omitted = a new one.")
    message_id: str | None = Field(None, max_length=200, description="Client id that makes the send idempotent: "
                                   "the same id from this channel is one turn; other text under it is a 409.")
    customer: Customer | None = Field(None, description="Ignored (deprecated): the customer is the subject of "
                                      "the signed `X-Customer-Token`; claims in the body are never trusted.")


def _principal(caller: Caller, token: str | None) -> Principal:
    if caller.kind == "reviewer":  # the team answers through tickets (routes_tickets.py), never as the customer
        raise HTTPException(403, "a reviewer token cannot send customer messages; reply on the ticket instead")
    return caller.principal(token)


CUSTOMER_TOKEN = Header(None, description="The customer, as a JWT the channel signs (see docs/usage/http.md).")


@router.post("/messages", response_model=CustomerTurn)
async def post_message(body: MessageIn, request: Request, caller: Caller = Depends(channel),
                       x_customer_token: str | None = CUSTOMER_TOKEN) -> CustomerTurn:
    """One customer turn; answers with what the customer may see of it."""
    desk, principal = desk_of(request), _principal(caller, x_customer_token)
    result = await desk.asend(body.message, thread_id=body.thread_id, message_id=body.message_id, caller=principal)
    return CustomerTurn.of(result)


@router.post("/messages/stream")
async def stream_message(body: MessageIn, request: Request, caller: Caller = Depends(channel),
                         x_customer_token: str | None = CUSTOMER_TOKEN) -> StreamingResponse:
    """Server-sent events: each specialist's progress (`step`, `route`, `finished`, `paused`), answer tokens in
    LLM mode (`token`), then `result` with what the customer may see of the turn (or `error`). The same turn as
    `POST /messages` (`SupportDesk.stream`). The message travels in the body, so no URL (and no access log of
    one) ever holds it."""
    desk, principal = desk_of(request), _principal(caller, x_customer_token)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    # Refusals (bad input, another caller's thread, a reused message id) are raised here, as plain HTTP errors.
    turn = await asyncio.to_thread(desk.stream, body.message, thread_id=body.thread_id, message_id=body.message_id,
                                   caller=principal)

    def produce() -> None:  # the graph streams synchronously; hand each event to the loop as it comes
        try:
            for event in turn:
                loop.call_soon_threadsafe(queue.put_nowait, ("progress", asdict(event)))
            loop.call_soon_threadsafe(queue.put_nowait, ("result", CustomerTurn.of(turn.result).model_dump()))
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
def get_thread(thread_id: str, request: Request, caller: Caller = Depends(channel),
               x_customer_token: str | None = CUSTOMER_TOKEN) -> dict[str, Any]:
    """The thread's latest turn and its conversation so far, for its own channel and customer (404 for anyone
    else); a reviewer token reads any thread, with the team's fields."""
    desk = desk_of(request)
    principal = caller.principal(x_customer_token)
    result = desk.get(thread_id, caller=principal)
    shown = result.model_dump() if principal.trusted else CustomerTurn.of(result).model_dump()
    return {**shown, "messages": desk.history(thread_id, caller=principal)}
