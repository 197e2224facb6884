"""The workspace's saved views and sorting (app/ui/workspace_rows.py), on rows built by hand."""

from __future__ import annotations

from app.ui.workspace_rows import REVIEW, Row, in_view, ordered


def row(key, status="open", assignee="", overdue=False, due_s=None, priority="normal", age_s=60.0, held_by=None,
        ticket=True) -> Row:
    return Row(key, f"th-{key}", key if ticket else None, "cus", "…", status, "general", assignee, age_s, "—",
               overdue, due_s, priority, item={"held_by": held_by})


ROWS = [
    row("T-1", assignee="ana", due_s=3000, age_s=500),
    row("T-2", due_s=-60, overdue=True, priority="high", age_s=9000),
    row("T-3", status="solved", age_s=100),
    row("R-1", status=REVIEW, ticket=False, due_s=600, priority="urgent", age_s=50),
    row("T-4", held_by="ana", due_s=None, priority="low", age_s=20),
]


def keys(rows):
    return [r.key for r in rows]


def test_saved_views_pick_what_an_agent_opens_the_workspace_for():
    assert keys(in_view(ROWS, "All", "ana")) == keys(ROWS)
    assert keys(in_view(ROWS, "Mine", "ana")) == ["T-1", "T-4"]  # assigned, or a conversation she holds
    assert in_view(ROWS, "Mine", None) == []
    assert keys(in_view(ROWS, "Unassigned", "ana")) == ["T-2", "T-4"]  # open tickets without an assignee
    assert keys(in_view(ROWS, "Waiting for review", "ana")) == ["R-1"]
    assert keys(in_view(ROWS, "Past SLA", "ana")) == ["T-2"]


def test_sorting_by_sla_priority_or_age():
    assert keys(ordered(ROWS, "SLA: most urgent first")) == ["T-2", "R-1", "T-1", "T-3", "T-4"]  # no clock last
    assert keys(ordered(ROWS, "Priority: highest first")) == ["R-1", "T-2", "T-1", "T-3", "T-4"]
    assert keys(ordered(ROWS, "Newest first")) == ["T-4", "R-1", "T-3", "T-1", "T-2"]
    assert keys(ordered(ROWS, "As listed")) == keys(ROWS)
