"""The trust boundary in front of every thread: which thread a caller's message goes to, and whether the caller
may open it at all.

Every door (the Python API, the CLI, HTTP, the console) passes its `Principal` (app/identity.py); the checks are
here once, so no door can forget one. A thread another channel or another customer owns reads exactly like one
that does not exist (UnknownThreadError, 404), so thread ids cannot be probed. Threads from before owners were
recorded have no owner row: only trusted callers (the server's own code, the team) can open them.
"""

from __future__ import annotations

import uuid
from typing import Any

from agents.supervisor.conversation import MessageError
from app.identity import LOCAL, Principal
from app.store.owners import ThreadOwners
from app.thread_ids import UnknownThreadError, check_not_personal, check_thread_id

MAX_MESSAGE_ID_CHARS = 200


def check_message_id(message_id: Any) -> str:
    if not isinstance(message_id, str) or not message_id.strip():
        raise MessageError("message_id must be non-empty text")
    if len(message_id) > MAX_MESSAGE_ID_CHARS or not message_id.isprintable():
        raise MessageError(f"message_id must be printable text of at most {MAX_MESSAGE_ID_CHARS} characters")
    return check_not_personal(message_id, "message_id")


class ThreadAccess:
    def __init__(self, owners: ThreadOwners, snapshot):
        self.owners = owners
        self._snapshot = snapshot  # thread id → its LangGraph snapshot (legacy threads without an owner row)

    def open(self, thread_id: str, caller: Principal = LOCAL) -> str:
        """`thread_id`, when `caller` may read it; UnknownThreadError otherwise."""
        tid = check_thread_id(thread_id)
        if caller.trusted:
            return tid
        owner = self.owners.owner(tid)
        if owner is None or not caller.may_open(owner.channel, owner.customer_id):
            raise UnknownThreadError(f"unknown thread id {tid!r}")
        return tid

    def for_message(self, caller: Principal, text: str, thread_id: str | None, message_id: str | None) -> str:
        """The thread a new message goes to, claimed for `caller`: the one it names, a new one, or, for a
        retried `message_id`, the thread the first send went to (app/store/owners.py)."""
        requested = check_thread_id(thread_id) if thread_id else None
        fresh = uuid.uuid4().hex
        tid = requested or fresh
        if message_id is not None:
            tid = self.owners.message_thread(caller.channel, check_message_id(message_id), text, requested, fresh)
        owner = self.owners.owner(tid)
        if owner is None:
            if tid != fresh and not caller.trusted and (self._snapshot(tid).values or {}):
                raise UnknownThreadError(f"unknown thread id {tid!r}")  # a thread from before owners were kept
            owner = self.owners.claim(tid, caller.channel, caller.customer.id)
        elif caller.customer.id and owner.customer_id is None and owner.channel == caller.channel:
            owner = self.owners.claim(tid, caller.channel, caller.customer.id)  # the customer is now known
        if not caller.may_open(owner.channel, owner.customer_id):
            raise UnknownThreadError(f"unknown thread id {tid!r}")
        return tid

    def threads_of(self, caller: Principal, limit: int = 50) -> list[dict]:
        """The signed-in customer's conversations on the caller's channel; none for an anonymous caller."""
        if caller.customer.id is None:
            return []
        return self.owners.threads_of(caller.channel, caller.customer.id, limit)
