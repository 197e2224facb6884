"""Red-team probes of the knowledge base's trust boundary (issue #25): who may change what customers are told.

Before the gate (app/knowledge_ops.py), anyone could ingest any server folder (a file saying "the internal
deployment password is …" was then quoted to customers), an upload named like an official document silently
replaced it, and personal data in a title, heading or file name was stored raw and quoted in citations. Each probe
replays one of these through the gate and returns when it held. Every probe works in a folder and a collection of
its own under the run's data directory, with the knowledge roots pointed at that folder, so none depends on the
working directory or on another probe. `FAMILY` is registered in app/bench/redteam.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.bench.redteam_probes import BIG, Ctx, check, refused

SECRET = "the internal deployment password is hunter2"
OFFICIAL = "# Refunds and returns\n\nRefunds are paid within 30 days of the return reaching us.\n"
FORGED = b"# Refunds and returns\n\nRefunds are never given, whatever the reason.\n"
PII_NAME = "kb-jane.roe@example.com.md"
PII_DOC = ("# Card 4111 1111 1111 1111 for jane.roe@example.com\n\n## IBAN DE89 3704 0044 0532 0130 00\n\n"
           "Gift wrapping costs four dollars per parcel and is chosen at checkout.\n")
RAW = ("jane.roe", "4111 1111 1111 1111", "4111111111111111", "DE89 3704", "DE89370400440532013000")


class Scene:
    """A probe's own corner: an allowed root, a folder outside it, a collection, and services whose knowledge
    roots are that root (sharing the run's embedder and models)."""

    def __init__(self, ctx: Ctx):
        from app import knowledge_ops as ops
        from app.services import Services

        self.ops, self.name = ops, ctx.thread("rt-kb")
        base = ctx.data_dir / "kb-probes" / self.name
        self.root, self.outside = base / "root", base / "outside"
        for folder in (self.root, self.outside):
            folder.mkdir(parents=True, exist_ok=True)
        (self.outside / "deploy-notes.md").write_text(f"# Deploy notes\n\nFor the record, {SECRET}.\n")
        own = ctx.desk.services
        settings = own.settings.model_copy(update={"knowledge_roots": str(self.root)})
        self.svc = Services(settings=settings, models=own.models, embedder=own.embedder)
        self.store = self.svc.store(self.name)
        self.kim = ops.sign_in(settings, "kim", "demo-kim")

    def official(self) -> None:
        """The official refunds document, ingested by the editor."""
        (self.root / "refunds-and-returns.md").write_text(OFFICIAL)
        self.ops.ingest_paths(self.svc, self.kim, [self.root], self.name)

    def stored(self) -> str:
        """Everything the collection holds (ids, texts, metadata) as one string to search."""
        return json.dumps(self.store.all_chunks(), ensure_ascii=False)

    def audit(self, event: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.svc.audit.entries("-") if e["agent"] == "knowledge"
                and e["evidence"].get("collection") == self.name and (event is None or e["event"] == event)]


def unsigned_ingest_refused(ctx: Ctx) -> None:
    s = Scene(ctx)
    (s.root / "faq.md").write_text("# FAQ\n\nOrders ship in two days.\n")
    refused(lambda: s.ops.ingest_paths(s.svc, None, [s.root], s.name), s.ops.KnowledgeAccessError,
            match="'knowledge' role")
    refused(lambda: s.ops.upload(s.svc, None, [("faq.md", b"# FAQ\n\nAnything.\n")], s.name),
            s.ops.KnowledgeAccessError, match="'knowledge' role")
    check(s.store.count() == 0, f"{s.store.count()} chunks written without a sign-in")
    check([e["actor"] for e in s.audit("knowledge_refused")] == ["anonymous", "anonymous"], s.audit())


def ingest_outside_roots_refused(ctx: Ctx) -> None:
    s = Scene(ctx)
    for path in (s.outside, s.outside / "deploy-notes.md", s.root / ".." / "outside", Path("/etc")):
        refused(lambda p=path: s.ops.ingest_paths(s.svc, s.kim, [p], s.name), s.ops.OutsideRootsError,
                match=str(s.root.resolve()))
    check(s.store.count() == 0 and "hunter2" not in s.stored(), "a file outside the roots was stored")
    check(len(s.audit("knowledge_refused")) == 4, s.audit())


def symlink_escape_refused(ctx: Ctx) -> None:
    s = Scene(ctx)
    (s.root / "linked").symlink_to(s.outside, target_is_directory=True)
    refused(lambda: s.ops.ingest_paths(s.svc, s.kim, [s.root / "linked"], s.name), s.ops.OutsideRootsError)
    docs = s.root / "docs"
    docs.mkdir()
    (docs / "shipping.md").write_text("# Shipping\n\nOrders ship in two days.\n")
    (docs / "notes.md").symlink_to(s.outside / "deploy-notes.md")  # a link planted inside an allowed folder
    change = s.ops.ingest_paths(s.svc, s.kim, [docs], s.name)
    check(change.added == ["shipping.md"], change.added)
    check("hunter2" not in s.stored(), "a symlinked file from outside the roots was stored")
    check(any("links outside" in x for x in change.report.skipped), change.report.skipped)


def silent_replace_refused(ctx: Ctx) -> None:
    s = Scene(ctx)
    s.official()
    before = s.store.doc_hashes()
    refused(lambda: s.ops.upload(s.svc, s.kim, [("refunds-and-returns.md", FORGED)], s.name),
            s.ops.DocumentExistsError, match="already exists in")
    check(s.store.doc_hashes() == before and "never given" not in s.stored(), "the official document was replaced")
    check(len(s.audit("knowledge_refused")) == 1, s.audit())


def replace_by_editor_audited(ctx: Ctx) -> None:
    s = Scene(ctx)
    s.official()
    change = s.ops.upload(s.svc, s.kim, [("refunds-and-returns.md", FORGED)], s.name, replace=True)
    check(change.replaced == ["refunds-and-returns.md"] and change.updated == ["refunds-and-returns.md"], change)
    (entry,) = s.audit("knowledge_replaced") or [None]
    check(entry is not None and entry["actor"] == "editor:kim", s.audit())
    check(entry["evidence"]["replaced"] == ["refunds-and-returns.md"] and entry["evidence"]["counts"]["updated"] == 1,
          entry["evidence"])


def non_editor_reviewer_refused(ctx: Ctx) -> None:
    s = Scene(ctx)
    s.official()
    ana = s.ops.sign_in(s.svc.settings, "ana", "demo-ana")  # a real reviewer, every review role, no `knowledge`
    before = s.store.doc_hashes()
    for attempt in (lambda: s.ops.ingest_paths(s.svc, ana, [s.root], s.name, prune=True),
                    lambda: s.ops.upload(s.svc, ana, [("refunds-and-returns.md", FORGED)], s.name, replace=True),
                    lambda: s.ops.delete(s.svc, ana, ["refunds-and-returns.md"], s.name)):
        refused(attempt, s.ops.KnowledgeAccessError, match="'knowledge' role")
    refused(lambda: s.ops.sign_in(s.svc.settings, "kim", "demo-ana"), s.ops.KnowledgeAccessError, match="token")
    check(s.store.doc_hashes() == before, "a reviewer without the role changed the collection")
    check({e["actor"] for e in s.audit("knowledge_refused")} == {"person:ana"}, s.audit())


def editor_cannot_decide_reviews(ctx: Ctx) -> None:
    from agents.compliance.reviewers import ReviewerError

    tid = ctx.desk.send(BIG, thread_id=ctx.thread()).thread_id
    refused(lambda: ctx.desk.approve(tid, reviewer="kim"), ReviewerError, match="no review role")
    check(ctx.desk.get(tid).pending_review, "the review was decided by a knowledge editor")


def pii_in_names_not_stored(ctx: Ctx) -> None:
    s = Scene(ctx)
    (s.root / PII_NAME).write_text(PII_DOC)
    (s.root / "records.jsonl").write_text(json.dumps({"id": "jane.roe@example.com", "title": "IBAN DE89 3704 0044 "
                                                      "0532 0130 00", "content": "Parcels are insured."}) + "\n")
    change = s.ops.ingest_paths(s.svc, s.kim, [s.root], s.name)
    check(len(change.added) == 2, change.added)
    stored, audited = s.stored(), json.dumps(s.audit(), ensure_ascii=False)
    for raw in RAW:
        check(raw not in stored, f"{raw!r} stored in Chroma")
        check(raw not in audited, f"{raw!r} in the audit trail")
    check(all("[EMAIL]" in d for d in change.added), change.added)


# (name, probe, in the quick subset)
FAMILY = [
    ("unsigned_ingest_refused", unsigned_ingest_refused, True),
    ("ingest_outside_roots_refused", ingest_outside_roots_refused, True),
    ("symlink_escape_refused", symlink_escape_refused, False),
    ("silent_replace_refused", silent_replace_refused, True),
    ("replace_by_editor_audited", replace_by_editor_audited, False),
    ("non_editor_reviewer_refused", non_editor_reviewer_refused, True),
    ("editor_cannot_decide_reviews", editor_cannot_decide_reviews, False),
    ("pii_in_title_heading_file_name", pii_in_names_not_stored, True),
]
