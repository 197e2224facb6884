"""The review side of the desk: inbox, decisions, groups and the SLA sweep over one thread runner.

Review code gets the runner (graph, checkpointer, services), never the desk itself, so `SupportDesk` can delegate
here without the two importing each other. A decision is `decide_steps` (app/review/door.py) driven by the runner.
"""

from __future__ import annotations

import logging
from typing import Any

from agents.compliance.reviewers import Registry, registry_for
from app.review import groups, sla
from app.review.door import decide_steps
from app.review.inbox import DEFAULT_LIMIT, count, inbox
from app.store.review_claims import ReviewClaims
from app.threads import ThreadRunner
from app.ticket_ops import TicketDesk, TicketError
from app.turn_result import TurnResult

_log = logging.getLogger(__name__)


class Reviews:
    def __init__(self, runner: ThreadRunner):
        self.runner = runner

    @property
    def claims(self) -> ReviewClaims:
        """The services' claims table: the graph's review node claims through the same one."""
        return self.runner.services.claims

    @property
    def registry(self) -> Registry:
        """The registry in force (re-read when its file changes)."""
        return registry_for(self.runner.services.settings)

    def inbox(self, queue: str | None = None, reviewer: str | None = None, now: float | None = None,
              limit: int | None = DEFAULT_LIMIT, offset: int = 0) -> list[dict[str, Any]]:
        """A page of the inbox (`limit=None`: every pending review), read from the index of pending reviews."""
        return inbox(self.runner, self.registry, queue=queue, reviewer=reviewer, now=now, limit=limit, offset=offset)

    def count(self, queue: str | None = None, reviewer: str | None = None) -> int:
        """How many pending reviews the inbox's filters select (from the index: no thread is read)."""
        return count(self.runner, self.registry, queue=queue, reviewer=reviewer)

    def decide(self, thread_id: str, decision: dict[str, Any], via: str = "python-api") -> TurnResult:
        """`via` names the door in the audit entry: python-api, operator-cli, console."""
        result = self.runner.run(decide_steps(self.runner.services, thread_id, decision, via))
        return self._note_on_ticket(result, decision)

    async def adecide(self, thread_id: str, decision: dict[str, Any], via: str = "python-api") -> TurnResult:
        result = await self.runner.arun(decide_steps(self.runner.services, thread_id, decision, via))
        return self._note_on_ticket(result, decision)

    def _note_on_ticket(self, result: TurnResult, decision: dict[str, Any]) -> TurnResult:
        """The reviewer's note joins the ticket their decision created, as an internal note by them, whichever door
        the decision came through (the note is also in the decision's audit entry). The decision stands if the
        note cannot be added."""
        choices = (decision.get("decisions") if isinstance(decision, dict) else None) or []
        choice = choices[0] if choices and isinstance(choices[0], dict) else {}
        note, reviewer = choice.get("note"), choice.get("reviewer")
        if note and reviewer and result.ticket_id:
            try:
                TicketDesk(self.runner).note(result.ticket_id, reviewer, f"review note: {note}")
            except TicketError as exc:
                _log.warning("the review note was not added to ticket %s: %s", result.ticket_id, exc)
        return result

    def groups(self, queue: str | None = None, reviewer: str | None = None) -> list[dict[str, Any]]:
        b = self.registry.batching
        items = self.inbox(queue=queue, reviewer=reviewer, limit=None)  # a group is judged on every member
        return groups.group_items(items, self.runner.services.embedder,
                                  band_ratio=b.band_ratio, band_width=b.band_width, min_similarity=b.min_similarity)

    def decide_group(self, group_id: str, decision: str, reviewer: str, note: str | None = None,
                     message: str | None = None, via: str = "python-api") -> dict[str, Any]:
        return groups.decide_group(self.groups(), self.registry, lambda tid, d: self.decide(tid, d, via), group_id,
                                   decision, reviewer, note=note, message=message)

    def sla_sweep(self, now: float | None = None) -> list[dict[str, Any]]:
        """Only the overdue, not yet escalated items are read (the index knows their deadlines)."""
        items = inbox(self.runner, self.registry, now=now, limit=None, overdue=True)
        return sla.sweep(items, self.registry, self.claims, self.runner.services.audit, self.runner.pending)
