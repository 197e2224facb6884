"""Team roles in the reviewer registry (`knowledge`) decide no review: the demo knowledge editor kim can sign in
and change the knowledge base, and is qualified for no paused action, whatever its role or amount."""

from __future__ import annotations

import pytest
import yaml

from agents.compliance.policy import load_policy
from agents.compliance.reviewers import TEAM_ROLES, ReviewerError, authorize, load_registry
from app.settings import CONFIG_DIR

REGISTRY = load_registry(CONFIG_DIR / "reviewers.yaml")
POLICY = load_policy(CONFIG_DIR / "policy.yaml")
REVIEW_ROLES = [None, *sorted({r.reviewer_role for r in POLICY.rules if r.effect == "review"} | {"supervisor"})]


def test_kim_is_the_demo_knowledge_editor():
    kim = REGISTRY.authenticate("kim", "demo-kim")
    assert kim.name == "Kim Novak (knowledge editor)" and kim.roles == ["knowledge"]
    assert kim.queues == [] and kim.approval_limit == 0 and "knowledge" in TEAM_ROLES
    assert REGISTRY.check_policy(POLICY) == []


@pytest.mark.parametrize("role", REVIEW_ROLES)
@pytest.mark.parametrize("amount", [None, 0, 10])
def test_a_knowledge_editor_decides_no_review(role, amount):
    assert "no review role" in REGISTRY.get("kim").may_decide(role, amount)
    with pytest.raises(ReviewerError, match="no review role"):
        authorize(REGISTRY, "kim", role, amount)
    assert "kim" not in [r.id for r in REGISTRY.qualified_for(role, amount)]


def test_a_team_role_qualifies_nobody_even_beside_review_roles(tmp_path):
    data = yaml.safe_load((CONFIG_DIR / "reviewers.yaml").read_text())
    ana = next(r for r in data["reviewers"] if r["id"] == "ana")
    ana["roles"].append("knowledge")
    path = tmp_path / "reviewers.yaml"
    path.write_text(yaml.safe_dump(data))
    reg = load_registry(path)
    assert reg.get("ana").may_decide("billing-lead", 100) is None  # her review roles still count
    assert "does not hold the role 'knowledge'" in reg.get("ana").may_decide("knowledge", 0)


def test_a_policy_rule_asking_for_a_team_role_is_a_problem():
    rule = next(r for r in POLICY.rules if r.effect == "review")
    policy = POLICY.model_copy(update={"rules": [rule.model_copy(update={"reviewer_role": "knowledge"})]})
    assert REGISTRY.check_policy(policy) == [f"rule {rule.id!r}: reviewer_role 'knowledge' decides no reviews "
                                             "(a team role: knowledge)"]
