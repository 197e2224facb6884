"""Ticketing: the idempotent ticket for a decided action or an escalation, and the customer's notification."""
