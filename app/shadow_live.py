"""Shadowing live traffic: the runtime form of `eval --shadow`.

`maybe_shadow(desk)` returns the desk unchanged unless `SUPPORT_SHADOW_CONFIG` names a candidate
configuration; then every `send` and `resume` is mirrored, after the live call returned, to the
candidate running in a sandbox (a temporary copy of the data directory), and each decision that
differs (intent, route, outcome, policy rule) is kept in `differences()` and logged. The candidate
never delays, changes or fails a live answer.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from app.logs import get_logger
from app.shadow import load_overrides, sandbox_services

_log = get_logger("shadow")
COMPARED = ("intent", "route", "outcome", "policy_rule")


def decisions(result) -> dict[str, Any]:
    pending = (result.pending_review or {}).get("metadata") or {}
    return {"intent": result.intent, "route": list(result.route), "outcome": result.outcome,
            "policy_rule": pending.get("rule_id") or (result.policy or {}).get("rule_id")}


class ShadowDesk:
    """A SupportDesk look-alike: live results come from the live desk; the candidate only watches."""

    def __init__(self, live, overrides: dict[str, Any]):
        from app.api import SupportDesk

        self.live = live
        self._sandbox = sandbox_services(live.services, overrides)
        self.candidate = SupportDesk(services=self._sandbox.__enter__())
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shadow")
        self._diffs: list[dict[str, Any]] = []

    def send(self, message, thread_id: str | None = None, customer: dict | None = None):
        result = self.live.send(message, thread_id=thread_id, customer=customer)
        self._pool.submit(self._mirror, "send", result, message, customer)
        return result

    def resume(self, thread_id: str, decision: dict[str, Any]):
        result = self.live.resume(thread_id, decision)
        self._pool.submit(self._mirror, "resume", result, decision, None)
        return result

    def approve(self, thread_id: str, reviewer: str, note: str | None = None):
        return self.resume(thread_id, {"decisions": [{"type": "approve", "reviewer": reviewer, "note": note}]})

    def reject(self, thread_id: str, reviewer: str, message: str | None = None):
        return self.resume(thread_id, {"decisions": [{"type": "reject", "reviewer": reviewer, "message": message}]})

    def _mirror(self, kind: str, live_result, payload, customer) -> None:
        tid = live_result.thread_id
        try:
            if kind == "send":
                cand = self.candidate.send(payload, thread_id=tid, customer=customer)
            else:
                cand = self.candidate.resume(tid, payload)
        except Exception as exc:  # the candidate may legitimately not be paused where live was
            self._diffs.append({"thread_id": tid, "call": kind, "field": "error", "live": None,
                                "candidate": f"{type(exc).__name__}: {exc}"[:300]})
            return
        live, other = decisions(live_result), decisions(cand)
        for field in COMPARED:
            if live[field] != other[field]:
                diff = {"thread_id": tid, "call": kind, "field": field, "live": live[field], "candidate": other[field]}
                self._diffs.append(diff)
                _log.info("shadow difference thread=%s %s: live=%s candidate=%s", tid, field, live[field], other[field])

    def differences(self, wait: bool = True) -> list[dict[str, Any]]:
        if wait:
            self._pool.submit(lambda: None).result()  # everything queued before now has been mirrored
        return list(self._diffs)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.candidate.close()
        self._sandbox.__exit__(None, None, None)
        self.live.close()

    def __getattr__(self, name: str):  # everything else (get, history, inbox, …) is the live desk's
        return getattr(self.live, name)


def maybe_shadow(desk):
    """The desk itself, or a ShadowDesk when `SUPPORT_SHADOW_CONFIG` is set."""
    path = desk.services.settings.shadow_config
    return ShadowDesk(desk, load_overrides(path)) if path else desk
