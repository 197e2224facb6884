"""Batching: 100 generated escalations of 5 kinds form ~5 groups that never mix kinds; a group decision
resumes and audits every member on its own, through the real graph."""

from __future__ import annotations

import random
import time
from collections import Counter
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from agents.compliance import nodes as compliance
from agents.compliance.reviewers import ReviewerError, registry_for
from agents.triage import nodes as triage
from app.bench.review_groups import EXPECTED_RULE, KINDS, escalation
from app.review.groups import GroupNotFoundError, group_items
from app.review.inbox import to_item


def generated_inbox(svc, n: int = 100, seed: int = 3) -> tuple[list[dict], dict[str, str]]:
    """Inbox items built by the real classifier, signals, policy and HITL payload (everything but the graph)."""
    rng, now, registry = random.Random(seed), time.time(), registry_for(svc.settings)
    kinds = [list(KINDS)[i % len(KINDS)] for i in range(n)]
    texts = [escalation(kind, rng) for kind in kinds]
    predictions = svc.classifier.predict_many(texts)  # one batch: what triage.classify does per message
    items, kind_of = [], {}
    for i, (kind, text, pred) in enumerate(zip(kinds, texts, predictions, strict=False)):
        state = {"request": text, "messages": [],
                 "triage": {"intent": pred.intent, "confidence": pred.confidence, "source": "classifier"}}
        state["triage"] = triage.enrich(state, svc)["triage"]
        decision = compliance.evaluate(state, svc)["compliance"]
        assert decision["status"] == "pending" and decision["rule_id"] == EXPECTED_RULE[kind], state["request"]
        paused = datetime.fromtimestamp(now - rng.randint(60, 20_000), UTC).isoformat()
        interrupt = SimpleNamespace(id=f"int-{i}", value=compliance.review_request(decision))
        item = to_item(f"thread-{i}", interrupt, paused, {**state, "compliance": decision}, registry, now=now)
        items.append(item)
        kind_of[item["thread_id"]] = kind
    return items, kind_of


def test_100_escalations_of_5_kinds_form_5_pure_groups(services):
    items, kind_of = generated_inbox(services)
    groups = group_items(items, services.embedder)
    assert sum(g["count"] for g in groups) == 100
    assert sorted(t for g in groups for t in g["thread_ids"]) == sorted(kind_of)  # each item exactly once
    for g in groups:
        assert len({kind_of[t] for t in g["thread_ids"]}) == 1, g["sample_request"]  # never mixes kinds
    assert len(groups) <= 5
    sizes = Counter(kind_of[g["thread_ids"][0]] for g in groups)
    assert set(sizes) == set(KINDS)
    # Same items in another order: the same groups (ids are hashes of members).
    again = group_items(list(reversed(items)), services.embedder)
    assert {g["group_id"] for g in again} == {g["group_id"] for g in groups}


def test_text_similarity_splits_different_requests_in_one_rule_and_band(services):
    items, _ = generated_inbox(services, n=5)
    base = next(i for i in items if i["rule_id"] == "refund-amount-unknown")
    lost = ["I'd like a refund for order #{o}, the package never arrived.",
            "Order #{o} was never delivered, I want a refund."]
    double = ["Refund order #{o}: you charged me twice for the same subscription.",
              "I was billed two times for my subscription, order #{o}, refund the duplicate."]
    rows = [{**base, "thread_id": f"{name}-{k}", "interrupt_id": f"i-{name}-{k}", "request": t.format(o=10000 + k)}
            for name, texts in (("lost", lost), ("double", double)) for k, t in enumerate(texts * 3)]
    groups = group_items(rows, services.embedder, min_similarity=0.7)
    assert sorted(sorted({t.split("-")[0] for t in g["thread_ids"]}) for g in groups) == [["double"], ["lost"]]
    # Amount bands: same rule and text, amounts far apart → separate groups.
    far = [{**base, "thread_id": f"a{k}", "interrupt_id": f"a{k}", "amount": amt, "request": lost[0]}
           for k, amt in enumerate([600, 650, 700, 1900, 2000])]
    assert sorted(g["count"] for g in group_items(far, services.embedder)) == [2, 3]


@pytest.mark.slow
def test_group_decision_resumes_and_audits_each_member(desk, services):
    rng = random.Random(11)
    sent = {}
    for kind in ["damaged"] * 3 + ["no_amount"] * 3:
        r = desk.send(escalation(kind, rng), customer={"id": f"c-{len(sent)}", "tier": "plus"})
        assert r.outcome == "escalated_pending_review"
        sent[r.thread_id] = kind
    groups = desk.review_groups()
    assert sorted(g["count"] for g in groups) == [3, 3]
    by_kind = {sent[g["thread_ids"][0]]: g for g in groups}
    damaged, no_amount = by_kind["damaged"], by_kind["no_amount"]
    assert {sent[t] for t in damaged["thread_ids"]} == {"damaged"}

    with pytest.raises(ReviewerError, match="nothing was decided"):  # sam is a billing agent, not a lead
        desk.decide_group(damaged["group_id"], "approve", reviewer="sam")
    assert len(desk.inbox()) == 6

    done = desk.decide_group(damaged["group_id"], "approve", reviewer="bo", note="batch ok")
    assert done["failed"] == [] and {d["outcome"] for d in done["decided"]} == {"ticket_created"}
    tickets = services.tickets.list()
    assert sorted(t["thread_id"] for t in tickets) == sorted(damaged["thread_ids"])
    assert {t["reviewer"] for t in tickets} == {"bo"}
    for tid in damaged["thread_ids"]:  # audited one by one, each naming the reviewer and the batch
        (entry,) = [e for e in services.audit.entries(tid) if e["event"] == "review_decision"]
        assert entry["actor"] == "reviewer:bo" and entry["evidence"]["review"]["batch"] == damaged["group_id"]

    with pytest.raises(GroupNotFoundError, match="run `review groups` again"):
        desk.decide_group(damaged["group_id"], "approve", reviewer="bo")  # already decided: gone

    rejected = desk.decide_group(no_amount["group_id"], "reject", reviewer="sam", message="Please send photos first.")
    assert [d["outcome"] for d in rejected["decided"]] == ["refused"] * 3
    assert len(services.tickets.list()) == 3 and desk.inbox() == []
    assert all(desk.get(t).answer == "Please send photos first." for t in no_amount["thread_ids"])
    assert services.audit.verify().ok


@pytest.mark.slow
def test_100_real_paused_threads_through_the_graph_form_5_pure_groups(desk):
    rng, kind_of = random.Random(21), {}
    for i in range(100):
        kind = list(KINDS)[i % len(KINDS)]
        r = desk.send(escalation(kind, rng), customer={"id": f"cust-{i}", "tier": rng.choice(["standard", "plus"])})
        assert r.outcome == "escalated_pending_review" and \
            r.pending_review["metadata"]["rule_id"] == EXPECTED_RULE[kind]
        kind_of[r.thread_id] = kind
    items = desk.reviews.inbox(limit=None)  # every page (desk.inbox() is the first 50)
    assert {i["thread_id"] for i in items} == set(kind_of)  # the inbox is the checkpointer's paused threads
    groups = desk.review_groups()
    assert len(groups) <= 5 and sum(g["count"] for g in groups) == 100
    assert all(len({kind_of[t] for t in g["thread_ids"]}) == 1 for g in groups)
