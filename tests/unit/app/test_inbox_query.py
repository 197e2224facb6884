"""The inbox's SQL filters (app/review/inbox_query.py) over the real pending-review index on a SQLite file judge every
row as the registry itself does (`route`, `may_decide`, the SLA), for the shipped registry and a harder one."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import yaml

from agents.compliance.policy import load_policy
from agents.compliance.reviewers import load_registry
from app.review import inbox_query
from app.settings import CONFIG_DIR
from app.store.pending_reviews import PendingReviews, amounts, paused_at

POLICY = load_policy(CONFIG_DIR / "policy.yaml")
NOW = 1_800_000_000.0

HARDER = {  # reviewers without queues, with several, a team role only, equal limits, a role nobody else holds
    "queues": {"billing": {"sla_hours": 4, "escalate_to": "boss"}, "legal": {"sla_hours": 8, "escalate_to": "boss"},
               "general": {"sla_hours": 24, "escalate_to": "boss"}, "night": {"sla_hours": 1, "escalate_to": "boss"}},
    "reviewers": [
        {"id": "a", "name": "A", "roles": ["billing-lead"], "queues": [], "approval_limit": 300},
        {"id": "b", "name": "B", "roles": ["billing-lead", "legal"], "queues": ["legal", "night"],
         "approval_limit": 1000},
        {"id": "c", "name": "C", "roles": ["billing-lead"], "queues": ["billing"], "approval_limit": 1000},
        {"id": "d", "name": "D", "roles": ["boss"], "queues": ["general"], "approval_limit": 50000},
        {"id": "k", "name": "K", "roles": ["knowledge"], "queues": [], "approval_limit": 0},
    ],
}


def _registry(tmp_path, which: str):
    if which == "shipped":
        return load_registry(CONFIG_DIR / "reviewers.yaml")
    path = tmp_path / "reviewers.yaml"
    path.write_text(yaml.safe_dump(HARDER), encoding="utf-8")
    return load_registry(path)


def _snapshot(k: int, role, queue, amount, currency, max_amount, priority, hours_ago: float):
    args = {"order_id": "55120", **({"amount": amount} if amount is not None else {}),
            **({"currency": currency} if currency else {})}
    meta = {"rule_id": f"rule-{k % 3}", "queue": queue, "reviewer_role": role,
            **({"max_amount": max_amount} if max_amount is not None else {})}
    payload = {"action_requests": [{"name": "refund", "args": args, "description": "d"}], "metadata": meta}
    created = datetime.fromtimestamp(NOW - hours_ago * 3600, UTC).isoformat()
    return SimpleNamespace(interrupts=[SimpleNamespace(id=f"i{k}", value=payload)], created_at=created,
                           values={"compliance": {"priority": priority}})


@pytest.fixture(params=["shipped", "harder"])
def grid(request, tmp_path):
    """Every combination of role, rule queue and amount (limits, either side of them, none, unrated, non-finite)
    written through the index's own `write`; returns (registry, index, the snapshots by thread id)."""
    registry = _registry(tmp_path, request.param)
    index = PendingReviews(tmp_path / "support.sqlite", POLICY.to_base)
    limits = sorted({r.approval_limit for r in registry.reviewers})
    money = [(None, None, None), (0, None, None), (120, "EUR", None), (100_000, "JPY", None), (80, "XYZ", None),
             (float("inf"), None, None), (200, None, 5000)]
    money += [(v, None, None) for top in limits for v in (top - 0.5, top, top + 0.5)]
    roles = [None, "", *sorted(registry.roles()), "nobody-holds-it"]
    queues = [None, *registry.queues, "unknown"]
    snaps = {}
    for k, (role, queue, (amount, cur, most)) in enumerate(itertools.product(roles, queues, money)):
        snap = _snapshot(k, role, queue, amount, cur, most, ["low", "normal", "high", "urgent"][k % 4], k % 30)
        index.write(f"t{k}", snap)
        snaps[f"t{k}"] = snap
    for k in range(0, len(snaps), 7):  # some were escalated by the SLA sweep
        index.escalated(f"t{k}", f"i{k}", "urgent", sorted(registry.roles())[k % len(registry.roles())])
    return registry, index, snaps


def _python(registry, snap):
    """(routed queue, qualified reviewer ids, paused at) the way the inbox's items are built (app/review/inbox.py)."""
    payload = snap.interrupts[0].value
    args, meta = payload["action_requests"][0]["args"], payload["metadata"]
    _, limit, _ = amounts(args, meta, POLICY.to_base)
    queue, qualified = registry.route(meta["queue"], meta["reviewer_role"], limit)
    return queue, qualified, paused_at(meta, snap.created_at)


def _select(index, where, params) -> set[str]:
    return {r["thread_id"] for r in index.page(where, params)}


def test_the_routed_queue_in_sql_is_the_registrys(grid):
    registry, index, snaps = grid
    routed, params = inbox_query.routed_queue(registry)
    with index.db.connect() as c:
        got = {r["thread_id"]: r["q"] for r in c.all(f"SELECT thread_id, {routed} AS q FROM pending_reviews", params)}
    assert len(got) == len(snaps) > 500
    assert got == {tid: _python(registry, s)[0] for tid, s in snaps.items()}
    for queue in [*registry.queues, "unknown"]:
        assert _select(index, *inbox_query.filters(registry, queue=queue)) == \
            {tid for tid, s in snaps.items() if _python(registry, s)[0] == queue}


def test_the_reviewer_filter_in_sql_is_qualification_plus_escalations(grid):
    registry, index, snaps = grid
    rows = {r["thread_id"]: r for r in index.page()}
    for who in registry.reviewers:
        expected = set()
        for tid, snap in snaps.items():
            queue, qualified, _ = _python(registry, snap)
            if (who.id in qualified and (not who.queues or queue in who.queues)) \
                    or rows[tid]["escalated_to"] in who.roles:
                expected.add(tid)
        assert _select(index, *inbox_query.filters(registry, who=who)) == expected, who.id


def test_the_overdue_filter_in_sql_is_the_queues_sla(grid):
    registry, index, snaps = grid
    rows = {r["thread_id"]: r for r in index.page()}
    expected = set()
    for tid, snap in snaps.items():
        queue, _, paused = _python(registry, snap)
        meta = snap.interrupts[0].value["metadata"]
        q = registry.queues.get(queue or "") or registry.queues.get(meta["queue"] or "")
        if q and NOW - paused > q.sla_hours * 3600 and rows[tid]["escalated_to"] is None:
            expected.add(tid)
    assert expected and _select(index, *inbox_query.filters(registry, overdue_at=NOW)) == expected


def test_pages_are_most_urgent_then_oldest_first_and_cover_every_row_once(grid):
    _, index, snaps = grid
    rows = index.page()
    keys = [(-r["urgency"], r["paused_at"], r["thread_id"]) for r in rows]
    assert keys == sorted(keys) and len(rows) == len(snaps) == index.count()
    pages = [index.page(limit=50, offset=o) for o in range(0, len(rows), 50)]
    assert [r["thread_id"] for p in pages for r in p] == [r["thread_id"] for r in rows]
    assert rows[0]["urgency"] == 3  # "urgent", whether the policy's or the sweep's


def test_no_text_is_kept(tmp_path):
    index = PendingReviews(tmp_path / "support.sqlite", POLICY.to_base)
    snap = _snapshot(1, "billing-lead", "billing", 900, "USD", None, "normal", 1)
    snap.values["request"] = "my email is someone@example.com"
    snap.interrupts[0].value["action_requests"][0]["description"] = "Refund for someone@example.com"
    index.write("t1", snap)
    (row,) = index.page()
    assert "example.com" not in repr(row) and row["amount"] == 900 and row["limit_amount"] == 900
    assert row["paused_at"] == pytest.approx(NOW - 3600)  # when it was asked, as a number the SQL compares
