"""Thread ids: what a caller may name a thread, checked before anything is stored, locked or looked up.

Every store keys on the id (checkpoints, tickets, audit, locks): an id none of them can encode (lone surrogates
from invalid UTF-8 on a command line, NUL, which PostgreSQL text cannot hold) or one of any length would
otherwise fail deep inside a driver, with a traceback, after part of a turn was recorded.
"""

from __future__ import annotations

from typing import Any

from agents.supervisor.conversation import MessageError
from knowledge.pii import spans

MAX_THREAD_ID_CHARS = 256


class UnknownThreadError(LookupError):
    pass


class PersonalIdError(MessageError):
    """An id that looks like personal data (an email, a card, phone or account number). Ids are keys: they are
    stored raw in checkpoints, tickets, the audit trail and metrics, where redaction never reaches, so they are
    refused (400) instead of being stored."""


def check_not_personal(value: str, what: str) -> str:
    """`value`, unless it holds personal data standing on its own: a match glued to other letters or digits
    (a run of digits inside a random hex id, 1 in ~1,300 `uuid4().hex`) is part of an opaque token, not a
    number someone typed."""
    found = {kind for kind, start, end in spans(value)
             if not (start > 0 and value[start - 1].isalnum()) and not (end < len(value) and value[end].isalnum())}
    if found:
        kinds = " and ".join(sorted(k.replace("_", " ") for k in found))
        raise PersonalIdError(f"{what} looks like personal data ({kinds}); ids are stored as they are, so use an "
                              "opaque id (e.g. a UUID) instead")
    return value


class InvalidThreadIdError(MessageError, UnknownThreadError):
    """A thread id no store can key on (not text, unencodable, control characters, too long); refused before
    anything is stored. Both a MessageError (bad input) and an UnknownThreadError (no such thread can exist),
    so every caller that handles either reports it cleanly."""


def check_thread_id(thread_id: Any) -> str:
    if isinstance(thread_id, int) and not isinstance(thread_id, bool):
        thread_id = str(thread_id)
    if not isinstance(thread_id, str):
        raise InvalidThreadIdError(f"thread id must be text, got {type(thread_id).__name__}")
    shown = ascii(thread_id[:40]) + ("..." if len(thread_id) > 40 else "")  # ascii(): the id may not be printable
    if len(thread_id) > MAX_THREAD_ID_CHARS:
        raise InvalidThreadIdError(f"thread id {shown} is {len(thread_id):,} characters; "
                                   f"the limit is {MAX_THREAD_ID_CHARS}")
    try:
        thread_id.encode("utf-8")
    except UnicodeEncodeError:  # e.g. invalid UTF-8 bytes on the command line (decoded as lone surrogates)
        raise InvalidThreadIdError(f"thread id {shown} is not valid UTF-8 text") from None
    if not thread_id.strip():
        raise InvalidThreadIdError("thread id is empty")
    if not thread_id.isprintable():
        raise InvalidThreadIdError(f"thread id {shown} contains control or invisible characters")
    return check_not_personal(thread_id, "thread id")
