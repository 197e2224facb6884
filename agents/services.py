"""What agents may ask of the services they are handed at run time.

Agents are plain functions of (state, services). The concrete `Services` is assembled by the application
(app/services.py), above this layer; agents only know this shape, so they never import upward.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # types only: the specialists import this protocol, so it imports none of them at run time
    from agents.compliance.policy import Policy
    from agents.triage.taxonomy import Taxonomy


class Services(Protocol):
    settings: Any  # app.settings.Settings: thresholds, model names, paths
    models: Any  # per-role chat models (`for_role`), or None in the offline default
    embedder: Any  # knowledge.embeddings.Embedder
    policy: Policy
    taxonomy: Taxonomy
    classifier: Any  # agents.triage.intent_model.IntentClassifier
    llm_limiter: Any  # a langchain rate limiter, or None
    tickets: Any  # ticket store: get/create/count_recent, action_amounts (earlier amounts, for total limits)
    audit: Any  # audit trail: record
    vault: Any  # contact vault: the only place raw contact details go
    controls: Any  # operator controls: `paused` (kill switch)
    metrics: Any  # run metrics
    systems: Any  # the company's systems (app/connectors/systems.py): binding/answer/mode, read, write, plan
    executions: Any  # the record of writes made there, by idempotency key (app/store/executions.py)
    claims: Any  # review claims: `take(thread_id, review_id, reviewer, decision, digest)`, LookupError if taken

    def retriever(self, collection: str | None = None) -> Any: ...

    def triage(self, view: dict, config: dict | None = None) -> dict:
        """The triage sub-graph on `view` (`request`, `messages`, `turn`, `part`): its state afterwards, with
        `triage` and `llm_calls`. Agents that must triage part of a message call this, never the steps."""

    def reliability_gate(self, triage: dict, route: list[str], turn: int | None) -> dict | None:
        """Why an intent must not be answered automatically right now (None = it may)."""

    def verify_decision(self, thread_id: str, review_id: str, decision: dict) -> bool:
        """Whether `decision["signature"]` was made with the deployment's key for this thread and review."""
