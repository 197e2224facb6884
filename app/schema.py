"""Schema creation as one explicit, idempotent step (`python -m app db upgrade`), also run at service start-up.

Every store creates its tables when opened; this opens each of them once, plus the checkpointer's migrations,
which run under a polled try-lock (app/store/checkpoints.py) so any number of processes may start together.
A deployment older than the index of pending reviews gets it filled from the checkpointer here, once.
"""

from __future__ import annotations

from typing import Any

from agents.compliance.policy import load_policy
from app.jobs import ensure_schema
from app.settings import Settings
from app.store.audit import AuditLog
from app.store.checkpoints import checkpointer, close_saver, thread_ids
from app.store.controls import Controls
from app.store.metrics import Metrics
from app.store.pending_reviews import PendingReviews
from app.store.review_claims import ReviewClaims
from app.store.tickets import TicketStore
from app.store.vault import ContactVault


def upgrade(settings: Settings) -> dict[str, Any]:
    """Create or migrate every table the desk uses; returns what was checked, for the CLI to print."""
    settings.ensure_dirs()
    saver = checkpointer(settings)
    try:
        index = _fill_index(settings, saver)
    finally:
        close_saver(saver)
    audit = AuditLog(settings.store_target, settings=settings)
    stores = {"tickets": TicketStore(settings.store_target), "audit": audit, "metrics": Metrics(settings.store_target),
              "controls": Controls(settings.store_target, audit), "review_claims": ReviewClaims(settings.store_target),
              "vault": ContactVault(settings.vault_target)}
    jobs = "created" if settings.database_url and ensure_schema(settings) else \
        "ok" if settings.database_url else "none (SQLite: run `review sla` from cron)"
    backend = "postgresql" if settings.database_url else "sqlite"
    return {"backend": backend, "checkpoints": "ok", **{name: "ok" for name in stores}, "pending_reviews": index,
            "jobs": jobs}


def _fill_index(settings: Settings, saver) -> str:
    """Build the index of pending reviews from the checkpointer if it never was (it is kept by the thread runner
    from then on; `review reindex` rebuilds it on demand)."""
    index = PendingReviews(settings.store_target, load_policy(settings.policy_file).to_base)
    if index.built():
        return "ok"
    from graphs.supervisor import build_graph  # deferred: the graph only when the index has to be filled

    graph = build_graph(checkpointer=saver)
    done = index.rebuild(thread_ids(saver), lambda tid: graph.get_state({"configurable": {"thread_id": tid}}))
    return f"filled from the checkpointer: {done['pending']} pending of {done['threads']} threads"
