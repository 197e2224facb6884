"""The Brightwave sample shop: a small system of record (customers, orders, payments) served over MCP and HTTP.

It stands in for a company's order and payment systems, so the desk's connectors (app/connectors/) are built and
tested against a real server: real transports, a real ledger, idempotent writes and injectable faults. It shares no
code with the desk; a team connects its own systems the same way (docs/connectors.md).
"""
