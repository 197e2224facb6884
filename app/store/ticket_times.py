"""How long a ticket's customer waited: to a person's first reply and to the solve, counted from the customer's
message (`asked_at`), not from the ticket a review may have opened hours later. A mixin of TicketStore."""

from __future__ import annotations


class ResponseTimes:
    db: object  # the TicketStore's Database

    def response_times(self, ticket_id: str | None = None) -> list[dict]:
        """Per ticket: seconds from the customer's message to the first public reply by a person and to its
        (latest) solve; None until then. A ticket from before `asked_at` counts from its creation."""
        sql = "SELECT id, queue, status, resolution, created_at, asked_at, first_response_at, solved_at FROM tickets"
        with self.db.connect() as c:
            rows = c.all(sql + " WHERE id = ?", (ticket_id,)) if ticket_id else c.all(sql + " ORDER BY created_at")
        return [{"id": r["id"], "queue": r["queue"], "status": r["status"], "resolution": r["resolution"],
                 "first_response_s": _since(r["asked_at"] or r["created_at"], r["first_response_at"]),
                 "resolution_s": _since(r["asked_at"] or r["created_at"], r["solved_at"])} for r in rows]


def _since(start: float, end: float | None) -> float | None:
    return None if end is None else round(end - start, 3)
