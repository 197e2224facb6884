"""Handoff: once a person has replied on a ticket or taken it, the conversation is theirs until they hand it back
or solve it.

The ticket row's `held_by` says who holds the conversation. It is set in the same transaction as what gives it
(TicketStore: a person's reply, an assignment to a person) and cleared by what ends it (a hand-back, a move to
solved or closed). A customer writing again does not take it back: a reopened ticket is the desk's until a person
replies again. While a ticket holds the thread, the customer's messages are forwarded into it (an event of kind
"customer", keyed by the message, so a replayed turn forwards once) and its holder is notified; the desk neither
answers nor opens another ticket (agents/ticketing/handoff.py).
"""

from __future__ import annotations

import time

OPEN = ("new", "open", "pending_customer", "reopened")


class Handoff:
    """The TicketStore's handoff queries; mixed in so one store keeps one transaction per change."""

    db: object

    def held(self, thread_id: str) -> dict | None:
        """The ticket a person holds on `thread_id` (the newest, if ever several), or None: the desk answers."""
        marks = ", ".join("?" for _ in OPEN)
        with self.db.connect() as c:
            row = c.one(f"SELECT * FROM tickets WHERE thread_id = ? AND held_by IS NOT NULL AND status IN ({marks}) "
                        "ORDER BY updated_at DESC LIMIT 1", (thread_id, *OPEN))
        return self._row(row) if row else None

    def forward(self, ticket_id: str, message_id: str, body: str) -> bool:
        """The customer's message onto the ticket, and a notification for whoever holds it; once per message.
        Returns whether this call recorded it."""
        event_id = f"{ticket_id}:customer:{message_id}"
        now = time.time()
        with self.db.transaction(lock=f"ticket:{ticket_id}") as c:
            ticket = c.one("SELECT held_by FROM tickets WHERE id = ?", (ticket_id,))
            if ticket is None or c.one("SELECT id FROM ticket_events WHERE id = ?", (event_id,)):
                return False
            c.execute("INSERT INTO ticket_events (id, ticket_id, kind, actor, body, created_at) "
                      "VALUES (?, ?, 'customer', 'customer', ?, ?)", (event_id, ticket_id, body, now))
            c.execute("UPDATE tickets SET updated_at = ? WHERE id = ?", (now, ticket_id))
            c.execute("INSERT INTO notifications VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                      (event_id, ticket_id, f"agent:{ticket['held_by']}", "The customer wrote: " + body[:500], now))
        return True
