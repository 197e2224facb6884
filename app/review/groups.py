"""Batching: similar pending reviews form one group, so one human decision settles many threads.

Similar means: same rule, intent, action and queue; amounts in one band (the largest at most
`band_ratio` times, or `band_width` dollars above, the smallest); and request texts close in embedding space
(digits masked, so order numbers and amounts do not split a group). A group id is a hash of its members, so deciding
"g-…" settles exactly the items the reviewer saw; if the pending set changed, the id no longer exists.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from itertools import groupby
from typing import Any

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from agents.compliance.reviewers import Registry, ReviewerError
from app.review.door import ReviewClaimedError

_DIGITS = re.compile(r"\d")


class GroupNotFoundError(LookupError):
    """No current group has this id (an item was decided or a new one arrived): list groups again."""


def _bands(items: list[dict], ratio: float, width: float) -> list[list[dict]]:
    """Amount bands: a band's largest amount is within `ratio` times, or `width` above, its smallest."""
    with_amount = sorted((i for i in items if i["amount"] is not None), key=lambda i: i["amount"])
    bands: list[list[dict]] = [[i for i in items if i["amount"] is None]]
    for it in with_amount:
        low = bands[-1][0]["amount"] if bands[-1] else None
        if low is None or (it["amount"] > low * ratio and it["amount"] - low > width):
            bands.append([])
        bands[-1].append(it)
    return [b for b in bands if b]


def _clusters(vectors: np.ndarray, min_similarity: float) -> list[list[int]]:
    """Average-linkage clusters whose members are on average at least `min_similarity` alike (cosine);
    order-independent, so the same pending set always yields the same groups."""
    if len(vectors) < 2:
        return [list(range(len(vectors)))]
    labels = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                     distance_threshold=1.0 - min_similarity).fit_predict(vectors)
    out: dict[int, list[int]] = {}
    for idx, label in enumerate(labels):
        out.setdefault(int(label), []).append(idx)
    return list(out.values())


def group_id(members: list[dict]) -> str:
    keys = sorted(f"{m['thread_id']}:{m['interrupt_id']}" for m in members)
    return "g-" + hashlib.sha256("\n".join(keys).encode()).hexdigest()[:10]


def group_items(items: list[dict], embedder: Any, band_ratio: float = 2.0, band_width: float = 500.0,
                min_similarity: float = 0.55) -> list[dict[str, Any]]:
    """Groups of inbox items (biggest first); every item lands in exactly one group."""
    texts = [_DIGITS.sub("0", i.get("request") or i["reason"] or "") for i in items]
    vectors = embedder.embed(texts) if items else np.zeros((0, 1))
    index = {id(it): k for k, it in enumerate(items)}

    def kind(i: dict) -> tuple:
        return (i["rule_id"] or "", i["intent"] or "", i["action"] or "", i["queue"] or "", i["reviewer_role"] or "")

    groups = []
    for _, same in groupby(sorted(items, key=kind), key=kind):
        for band in _bands(list(same), band_ratio, band_width):
            vecs = vectors[[index[id(it)] for it in band]]
            for cluster in _clusters(vecs, min_similarity):
                groups.append(summary([band[k] for k in cluster]))
    groups.sort(key=lambda g: (-g["count"], -g["oldest_age_seconds"]))
    return groups


def summary(members: list[dict]) -> dict[str, Any]:
    first = members[0]
    amounts = [m["amount"] for m in members if m["amount"] is not None]
    return {
        "group_id": group_id(members), "rule_id": first["rule_id"], "intent": first["intent"],
        "action": first["action"], "queue": first["queue"], "reviewer_role": first["reviewer_role"],
        "reason": first["reason"], "count": len(members),
        "amount_min": min(amounts) if amounts else None, "amount_max": max(amounts) if amounts else None,
        "oldest_age_seconds": max(m["age_seconds"] for m in members),
        "qualified": sorted(set.intersection(*(set(m["qualified"]) for m in members))),
        "sample_request": first.get("request"),
        "thread_ids": [m["thread_id"] for m in members], "items": members,
    }


def _refusal(person: Any, item: dict) -> str | None:
    """Why `person` may not decide this inbox item, judged on its amount in the policy currency."""
    if item.get("unrated_currency"):
        return f"no rate for {item.get('currency')!r} in the policy: no approval limit covers this amount"
    return person.may_decide(item["reviewer_role"], item.get("limit_amount"))


def decide_group(groups: list[dict], registry: Registry, decide: Callable[[str, dict], Any], gid: str,
                 decision: str, reviewer: str, note: str | None = None, message: str | None = None) -> dict[str, Any]:
    """Approve or reject every member of group `gid` (from `groups`, listed just now); each is claimed, resumed
    and audited on its own by `decide(thread_id, payload)`. The reviewer must be qualified for every member
    first (else nothing is decided)."""
    if decision not in ("approve", "reject"):
        raise ValueError(f"a group decision is 'approve' or 'reject', not {decision!r}")
    group = next((g for g in groups if g["group_id"] == gid), None)
    if group is None:
        raise GroupNotFoundError(f"no pending group {gid!r}: the pending reviews changed since it was listed "
                                 "(an item was decided or a new one arrived); run `review groups` again")
    person = registry.get(reviewer)
    refused = [f"{m['thread_id']}: {why}" for m in group["items"] if (why := _refusal(person, m))]
    if refused:
        raise ReviewerError(f"{reviewer} may not decide all of group {gid} (nothing was decided): "
                            + "; ".join(refused[:5]) + (f"; … {len(refused) - 5} more" if len(refused) > 5 else ""))
    decided, failed = [], []
    for m in group["items"]:
        choice = {"type": decision, "reviewer": reviewer, "note": note, "batch": gid}
        if decision == "reject":
            choice["message"] = message
        try:
            r = decide(m["thread_id"], {"decisions": [choice]})
        except (ReviewClaimedError, ReviewerError, LookupError) as exc:
            failed.append({"thread_id": m["thread_id"], "error": str(exc)})
            continue
        decided.append({"thread_id": m["thread_id"], "outcome": r.outcome, "ticket_id": r.ticket_id})
    return {"group_id": gid, "decision": decision, "reviewer": reviewer, "decided": decided, "failed": failed}
