"""Convert tau2-bench tasks (`../shared/data/tau2/<domain>/tasks_train.json`) into eval scenarios.

message = reason for call + known info. The expected outcome comes from the actions a correct agent
takes: none → answered or refused (inform only, or decline); transfer_to_human_agents → escalated
(a human gets it: a review or a ticket); any other write action (cancel, return, exchange, modify,
book) → not a bare answer: a ticket, a review or a refusal.
"""

from __future__ import annotations

import json
from pathlib import Path

READ_ONLY = ("get_", "find_", "list_", "search_", "calculate", "think")
ESCALATED = ["escalated_pending_review", "ticket_created"]


class Tau2Error(ValueError):
    pass


def write_actions(task: dict) -> list[str]:
    actions = ((task.get("evaluation_criteria") or {}).get("actions")) or []
    return [a["name"] for a in actions if not a.get("name", "").startswith(READ_ONLY)]


def expected_outcome(actions: list[str]) -> list[str]:
    if "transfer_to_human_agents" in actions:
        return ESCALATED
    if not actions:
        return ["answered", "refused"]
    return [*ESCALATED, "refused"]


def convert(path: str | Path) -> list[dict]:
    path = Path(path)
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise Tau2Error(f"{path}: cannot read tau2 tasks ({exc})") from exc
    if not isinstance(tasks, list):
        raise Tau2Error(f"{path}: expected a JSON list of tasks")
    domain = path.parent.name or "tau2"
    out = []
    for i, task in enumerate(tasks):
        try:
            instr = task["user_scenario"]["instructions"]
            reason = (instr.get("reason_for_call") or "").strip()
        except (KeyError, TypeError):
            raise Tau2Error(f"{path}: task #{i} has no user_scenario.instructions") from None
        known = (instr.get("known_info") or "").strip()
        actions = write_actions(task)
        out.append({
            "id": f"tau2-{domain}-{task.get('id', i)}",
            "message": " ".join(p for p in (reason, known) if p) or "(empty)",
            "customer": {"id": f"tau2-{domain}-{task.get('id', i)}", "verified": False},
            "expect": {"outcome": expected_outcome(actions)},
            "tags": ["tau2", domain, *(sorted(set(actions)) or ["no-action"])],
        })
    return out
