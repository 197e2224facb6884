"""Reviewer registry: loading, clear errors, qualification, routing, tokens (no graph needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agents.compliance.policy import load_policy
from agents.compliance.reviewers import ReviewerError, authorize, hash_token, load_registry
from app.settings import CONFIG_DIR

DEFAULT = CONFIG_DIR / "reviewers.yaml"


def _write(tmp_path: Path, data: dict) -> Path:
    p = tmp_path / "reviewers.yaml"
    p.write_text(yaml.safe_dump(data), encoding="utf-8")
    return p


def _raw() -> dict:
    return yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))


def test_default_registry_is_valid_and_covers_the_policy():
    reg = load_registry(DEFAULT)
    assert reg.check_policy(load_policy(CONFIG_DIR / "policy.yaml")) == []
    assert reg.get("bo").approval_limit == 2000 and "billing-lead" in reg.get("bo").roles
    for test_reviewer in ("ana", "bo"):  # the ids the existing tests and README use
        assert reg.get(test_reviewer)


@pytest.mark.parametrize("mutate,expected", [
    (lambda d: d["reviewers"][0].pop("roles"), "reviewer 'ana', field roles: Field required"),
    (lambda d: d["reviewers"][1].update(approval_limit=-5), "reviewer 'bo', field approval_limit"),
    (lambda d: d["reviewers"][2].update(queues=["nowhere"]), "unknown queue(s) nowhere"),
    (lambda d: d["reviewers"].append(dict(d["reviewers"][0])), "duplicate reviewer id(s): ana"),
    (lambda d: d["reviewers"][0].update(token_hash="plain-secret"), "field token_hash: Value error, must look like"),
    (lambda d: d["queues"]["billing"].update(sla_hours=0), "queue 'billing', field sla_hours"),
    (lambda d: d["queues"]["billing"].update(escalate_to="ceo"), "escalate_to role 'ceo' is held by no reviewer"),
    (lambda d: d.update(surprise=1), "surprise: Extra inputs are not permitted"),
])
def test_invalid_registry_names_file_reviewer_and_field(tmp_path, mutate, expected):
    data = _raw()
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(ReviewerError) as exc:
        load_registry(path)
    assert str(path) in str(exc.value) and expected.replace("Value error, ", "") in str(exc.value)


def test_unreadable_or_non_mapping_registry(tmp_path):
    with pytest.raises(ReviewerError, match="cannot read"):
        load_registry(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just a list\n")
    with pytest.raises(ReviewerError, match="expected a mapping"):
        load_registry(bad)


def test_registry_that_leaves_a_review_rule_uncovered(tmp_path):
    data = _raw()
    data["reviewers"] = [r for r in data["reviewers"] if r["id"] in ("bo", "sam", "max")]
    for r in data["reviewers"]:
        r["roles"] = [x for x in r["roles"] if x != "legal"]
    problems = load_registry(_write(tmp_path, data)).check_policy(load_policy(CONFIG_DIR / "policy.yaml"))
    assert problems == ["rule 'legal-threat-review': reviewer_role 'legal' is held by no reviewer"]


def test_roles_and_limits():
    reg = load_registry(DEFAULT)
    assert authorize(reg, "bo", "billing-lead", 2000).id == "bo"
    with pytest.raises(ReviewerError, match=r"above reviewer 'bo''s approval limit of 2,000.00"):
        authorize(reg, "bo", "billing-lead", 2000.01)
    with pytest.raises(ReviewerError, match="does not hold the role 'legal'"):
        authorize(reg, "bo", "legal", 10)
    with pytest.raises(ReviewerError, match="unknown reviewer 'mallory'"):
        authorize(reg, "mallory", "billing-lead", 10)
    assert authorize(reg, "sam", "billing-agent", None).id == "sam"  # no amount: the role decides


def test_routing_goes_to_a_queue_a_qualified_reviewer_works():
    reg = load_registry(DEFAULT)
    assert reg.route("billing", "billing-lead", 900) == ("billing", ["ana", "bo", "max"])
    # Above every billing lead's limit: only the supervisor qualifies, so it goes to the supervisor's queue.
    assert reg.route("billing", "billing-lead", 5000) == ("general", ["max"])
    assert reg.route("billing", "billing-lead", 50_000) == ("billing", [])  # nobody: stays put, nobody listed


def test_token_authentication():
    reg = load_registry(DEFAULT)
    assert reg.authenticate("bo", "demo-bo").id == "bo"
    assert hash_token("demo-bo") == reg.get("bo").token_hash
    for who, token in [("bo", "demo-ana"), ("bo", ""), ("nobody", "demo-bo")]:
        with pytest.raises(ReviewerError, match="unknown reviewer or wrong token"):
            reg.authenticate(who, token)
