"""The ticket scope rules on their own (app/ticket_scope.py): who is on the team, which names exist, who may move
which ticket. The desk, the CLI and HTTP are checked over real stores in tests/integration/test_ticket_scope.py and
tests/system/test_http_tickets.py / test_ticket_lifecycle.py."""

from __future__ import annotations

import pytest

from agents.compliance.reviewers import Registry, ReviewerError
from app.store.ticket_lifecycle import TicketError
from app.ticket_scope import (
    TicketScopeError,
    UnknownAssigneeError,
    check_targets,
    guard,
    member,
    why_not,
)

REGISTRY = Registry.model_validate({
    "queues": {q: {"sla_hours": 4, "escalate_to": "supervisor"} for q in ("billing", "fraud", "general")},
    "reviewers": [
        {"id": "sam", "name": "Sam", "roles": ["billing-agent"], "queues": ["billing"], "approval_limit": 500},
        {"id": "fay", "name": "Fay", "roles": ["fraud-analyst"], "queues": ["fraud"], "approval_limit": 1000},
        {"id": "max", "name": "Max", "roles": ["supervisor"], "queues": [], "approval_limit": 10000},
        {"id": "lone", "name": "Lone", "roles": ["legal"], "queues": [], "approval_limit": 0},
    ],
    "source": "reviewers.yaml",
})


def ticket(queue: str | None, assignee: str | None = None) -> dict:
    return {"id": "T-1", "queue": queue, "assignee": assignee, "status": "open"}


def test_the_actor_must_be_a_registry_person():
    assert member(REGISTRY, "sam").id == "sam"
    with pytest.raises(TicketScopeError, match="unknown actor 'lead': .* reviewer registry reviewers.yaml") as exc:
        member(REGISTRY, "lead")
    assert isinstance(exc.value, ReviewerError) and isinstance(exc.value, TicketError)  # 403 on HTTP, exit 2 on CLI


def test_a_registry_person_who_works_no_queue_works_no_ticket():
    with pytest.raises(TicketScopeError, match="'lone' works no queue: .* a supervisor"):
        member(REGISTRY, "lone")  # e.g. a knowledge editor: on the registry, but answers no customer
    assert member(REGISTRY, "max").id == "max"  # a supervisor needs no queue of their own


@pytest.mark.parametrize(("person", "queue", "match"), [
    ("nobody", None, "unknown person 'nobody'; people who work tickets: sam, fay, max$"),
    ("lone", None, "person 'lone' works no queue; people who work tickets: sam, fay, max"),
    (None, "nowhere", "unknown queue 'nowhere'; queues: billing, fraud, general"),
    ("sam", "nowhere", "unknown queue 'nowhere'"),
    ("SAM", None, "unknown person 'SAM'"),  # ids are exact: no case folding into someone else
])
def test_assignments_name_only_people_and_queues_that_exist(person, queue, match):
    with pytest.raises(UnknownAssigneeError, match=match) as exc:
        check_targets(REGISTRY, person, queue)
    assert not isinstance(exc.value, ReviewerError)  # bad input (400), not a permission


def test_existing_people_and_queues_pass():
    check_targets(REGISTRY, "fay", "fraud")
    check_targets(REGISTRY, None, "general")
    check_targets(REGISTRY, "max", None)


@pytest.mark.parametrize(("who", "where", "allowed"), [
    ("sam", ticket("billing"), True),  # their own queue
    ("sam", ticket("fraud"), False),  # another queue
    ("sam", ticket("fraud", assignee="sam"), False),  # assigned is not enough: the queue gives the work
    ("fay", ticket("fraud"), True),
    ("max", ticket("fraud"), True),  # supervisor: every queue
    ("max", ticket(None), True),
    ("sam", ticket(None), False),  # in no queue: nobody's but a supervisor's
    ("sam", ticket("retired-queue"), False),  # a queue the registry no longer defines
    ("lone", ticket("billing"), False),  # works no queue at all
])
def test_who_may_move_which_ticket(who, where, allowed):
    why = why_not(REGISTRY.get(who), where)
    assert (why is None) is allowed, why
    if not allowed:
        assert "T-1" in why and "supervisor" in why and repr(who) in why


def test_the_refusal_names_the_ticket_queue_and_what_the_actor_works():
    why = why_not(REGISTRY.get("sam"), ticket("fraud"))
    assert why == "ticket T-1 is in queue 'fraud' and 'sam' works billing: it takes a member of that queue or the " \
                  "supervisor role"
    assert "works no queue" in why_not(REGISTRY.get("lone"), ticket("billing"))
    assert "is in no queue" in why_not(REGISTRY.get("sam"), ticket(None))


def test_the_guard_refuses_by_raising_and_passes_silently():
    guard(REGISTRY.get("sam"), "closing")(ticket("billing"))
    with pytest.raises(TicketScopeError, match="^closing refused: ticket T-1 is in queue 'fraud'"):
        guard(REGISTRY.get("sam"), "closing")(ticket("fraud"))
