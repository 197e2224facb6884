"""Per-turn LLM budgets (agents/budget.py): when a call is refused. Through the desk, with the offline path it
degrades to, in tests/integration/test_cost_budget.py."""

from __future__ import annotations

import pytest

from agents.budget import TurnBudget


@pytest.mark.parametrize("budget,estimate,refused", [
    (TurnBudget(2, None, calls=1), 10**6, False),
    (TurnBudget(2, None, calls=2), 0, True),
    (TurnBudget(None, 100, tokens=60), 41, True),
    (TurnBudget(None, 100, tokens=60), 40, False),
    (TurnBudget(None, None, calls=99, tokens=10**9), 10**9, False),
])
def test_turn_budget_rules(budget, estimate, refused):
    assert (budget.refusal(estimate) is not None) is refused
