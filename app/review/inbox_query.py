"""The inbox's filters (a queue, one reviewer's items, overdue items) as SQL over the pending-review index.

Which queue an item is routed to and who may decide it belong to the registry (agents/compliance/reviewers.py
`route`, `may_decide`), judged on the amount in the policy currency. Both compare only the item's role with the
reviewers' roles and its amount with their approval limits, so the answer is the same for every amount between two
consecutive limits: the SQL is a CASE over (role, amount band), built from the registry in force on each call (it
reloads when its file changes), never stored in the index where it would go stale. tests/unit/app/test_inbox_query.py
checks it against `route` itself. The inbox still builds each row it shows with the registry (app/review/inbox.py)
and leaves out a row the SQL misjudged (a currency rate changed since the row was written, say).
"""

from __future__ import annotations

from agents.compliance.reviewers import Registry, Reviewer

NO_ROLE = "COALESCE(reviewer_role, '') = ''"  # a rule without a role: the registry asks any reviewer


def _in(column: str, values: list) -> tuple[str, list]:
    return (f"{column} IN ({', '.join('?' * len(values))})", list(values)) if values else ("0 = 1", [])


def _bands(registry: Registry) -> list[tuple[str, list, float | None]]:
    """(SQL over limit_amount, its parameters, an amount inside the band) for no amount and each band of amounts
    that the same reviewers' limits cover; above the highest limit nobody qualifies."""
    limits = sorted({r.approval_limit for r in registry.reviewers})
    bands: list[tuple[str, list, float | None]] = [("limit_amount IS NULL", [], None)]
    low = None
    for top in limits:
        if low is None:
            bands.append(("limit_amount <= ?", [top], top))
        else:
            bands.append(("limit_amount > ? AND limit_amount <= ?", [low, top], top))
        low = top
    return bands


def routed_queue(registry: Registry) -> tuple[str, list]:
    """SQL for the queue `registry.route(rule_queue, reviewer_role, limit)` gives a row: the rule's queue when a
    qualified reviewer works it (or nobody qualifies), else the first queue of the first qualified reviewer."""
    whens, params = [], []
    for role in [None, *sorted(registry.roles())]:
        role_sql, role_params = (NO_ROLE, []) if role is None else ("reviewer_role = ?", [role])
        for band_sql, band_params, amount in _bands(registry):
            qualified = registry.qualified_for(role, amount)
            first = next((r for r in qualified if r.queues), None)
            if first is None:  # nobody qualifies, or nobody qualified works a queue: the rule's own queue (ELSE)
                continue
            works, works_params = _in("rule_queue", sorted({q for r in qualified for q in r.queues}))
            whens.append(f"WHEN {role_sql} AND {band_sql} THEN CASE WHEN {works} THEN rule_queue ELSE ? END")
            params += [*role_params, *band_params, *works_params, first.queues[0]]
    if not whens:
        return "rule_queue", []
    return f"(CASE WHEN over_every_limit = 1 THEN rule_queue {' '.join(whens)} ELSE rule_queue END)", params


def may_decide(registry: Registry, who: Reviewer) -> tuple[str, list]:
    """SQL for the items `who` is qualified for in their queues (role and approval limit), plus those escalated to
    one of their roles: the inbox's `reviewer=` filter."""
    roles = [r for r in sorted(registry.roles()) if who.may_decide(r, None) is None]
    role_sql, params = _in("reviewer_role", roles)
    if who.may_decide(None, None) is None:
        role_sql = f"{NO_ROLE} OR {role_sql}"
    sql = (f"(({role_sql}) AND over_every_limit = 0 AND (limit_amount IS NULL OR limit_amount <= ?)")
    params.append(who.approval_limit)
    if who.queues:
        routed, routed_params = routed_queue(registry)
        works, works_params = _in(routed, list(who.queues))
        sql, params = f"{sql} AND {works}", [*params, *routed_params, *works_params]
    escalated, escalated_params = _in("escalated_to", list(who.roles))
    return f"{sql}) OR {escalated}", [*params, *escalated_params]


def overdue(registry: Registry, now: float) -> tuple[str, list]:
    """SQL for items past their queue's SLA at `now` and not yet escalated: what the SLA sweep reads."""
    routed, routed_params = routed_queue(registry)
    cases, params = [], []
    for column, column_params in ((routed, routed_params), ("rule_queue", [])):
        whens = " ".join("WHEN ? THEN ?" for _ in registry.queues)
        cases.append(f"CASE {column} {whens} END")
        params += [*column_params, *(v for name, q in registry.queues.items() for v in (name, q.sla_hours))]
    return f"escalated_to IS NULL AND paused_at + COALESCE({', '.join(cases)}) * 3600 < ?", [*params, now]


def filters(registry: Registry, queue: str | None = None, who: Reviewer | None = None,
            overdue_at: float | None = None) -> tuple[str, list]:
    """The WHERE clause (and parameters) for the inbox's filters; empty when there are none."""
    parts: list[tuple[str, list]] = []
    if queue:
        routed, params = routed_queue(registry)
        parts.append((f"{routed} = ?", [*params, queue]))
    if who is not None:
        parts.append(may_decide(registry, who))
    if overdue_at is not None:
        parts.append(overdue(registry, overdue_at))
    return " AND ".join(f"({sql})" for sql, _ in parts), [p for _, params in parts for p in params]
