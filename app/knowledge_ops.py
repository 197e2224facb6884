"""Changes to the knowledge base are team actions: who may make them, from where, and the record they leave.

The desk quotes the knowledge base to customers, so a document added, replaced or deleted changes what customers
are told, as surely as an approved refund changes money. Every door of the application (the console's Knowledge
page, `python -m app ingest`) goes through these functions with the signed-in person; none writes to a collection
itself. `knowledge.ingest.ingest` stays ungated: it is the server's own code (benchmarks, fixtures), not a door.

* **Role.** The person must hold the `knowledge` role in the reviewer registry as it is now: the registry is re-read
  on every call, so a role taken away takes effect without waiting for a sign-out.
* **Roots.** A server path is resolved (symlinks, `..`) and must lie inside `settings.knowledge_roots`; a file found
  there that links outside them is skipped unread. Otherwise any readable file on the server (a deployment secret)
  could be ingested and then quoted to customers.
* **No silent replace.** An upload whose document id is already in the collection is refused unless the caller asks
  to replace it; the replace is then its own audited event, naming what was replaced.
* **Audit.** Every change, and every refused attempt, is an audit entry with the person as actor (`editor:<id>`),
  the collection, document ids and counts. Ids are redacted as documents are read (knowledge/readers.py), and the
  audit trail redacts reasons and evidence again.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from agents.compliance.reviewers import ReviewerError, registry_for
from knowledge.ingest import IngestReport, ingest
from knowledge.pii import redact
from knowledge.readers import SUPPORTED, read_documents, redact_id

ROLE = "knowledge"
LISTED = 100  # document ids an audit entry names; the counts cover the rest
_UNSAFE = re.compile(r"[^\w.\[\]~ -]+")
Progress = Callable[[int, int], None]  # (chunks embedded, chunks to embed)


class KnowledgeError(Exception):
    """A change to the knowledge base refused; `status` is the HTTP-style code a door may show."""

    status = 400


class KnowledgeAccessError(KnowledgeError, PermissionError):
    """Not signed in, a wrong token, or a person without the `knowledge` role."""

    status = 403


class OutsideRootsError(KnowledgeError, PermissionError):
    """A server path outside `settings.knowledge_roots` (after resolving symlinks and `..`)."""

    status = 403


class DocumentExistsError(KnowledgeError):
    """An upload would replace documents already in the collection, and replacing was not asked for."""

    status = 409

    def __init__(self, message: str, doc_ids: list[str]):
        super().__init__(message)
        self.doc_ids = doc_ids


class Person(Protocol):
    """Whoever signed in: app.ui.auth.Identity, or the `Editor` that `sign_in` returns."""

    id: str
    roles: Sequence[str]


@dataclass(frozen=True)
class Editor:
    id: str
    name: str
    roles: tuple[str, ...]


@dataclass
class Change:
    """What one call did to a collection, by document id (from the store before and after, not from the files)."""

    collection: str
    report: IngestReport
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)


def sign_in(settings, reviewer_id: str, token: str) -> Editor:
    """The registry's person for this id and token (for doors without a session, such as the CLI)."""
    try:
        r = registry_for(settings).authenticate((reviewer_id or "").strip(), token or "")
    except ReviewerError as exc:
        refused = KnowledgeAccessError(f"401 unauthorized: {exc}")
        refused.status = 401
        raise refused from None
    return Editor(r.id, r.name, tuple(r.roles))


def require_editor(settings, person: Person | None) -> str:
    """The editor's id, if `person` holds the role now; KnowledgeAccessError naming the role otherwise."""
    need = f"changing the knowledge base needs the {ROLE!r} role"
    if person is None:
        raise KnowledgeAccessError(f"403 forbidden: sign in first; {need}")
    try:
        current = registry_for(settings).get(person.id)
    except ReviewerError:
        raise KnowledgeAccessError(f"403 forbidden: {person.id!r} is not in the reviewer registry; {need}") from None
    if ROLE not in current.roles:
        raise KnowledgeAccessError(f"403 forbidden: {need}, which {current.id!r} does not hold "
                                   f"(has: {', '.join(current.roles)})")
    return current.id


def roots(settings) -> list[Path]:
    """The allowed server folders, resolved (relative ones against the working directory)."""
    return [Path(r.strip()).expanduser().resolve() for r in str(settings.knowledge_roots).split(",") if r.strip()]


def server_path(settings, path: str | Path) -> Path:
    """`path` resolved, if it lies inside a knowledge root; OutsideRootsError naming the roots otherwise."""
    resolved = Path(path).expanduser().resolve()
    allowed = roots(settings)
    if not any(resolved.is_relative_to(r) for r in allowed):
        raise OutsideRootsError(
            f"403 forbidden: {path} is outside the knowledge roots ({', '.join(map(str, allowed)) or 'none'}); "
            "only folders under SUPPORT_KNOWLEDGE_ROOTS may be ingested")
    return resolved


def safe_name(name: str) -> str:
    """An uploaded file's name as saved: no folders, no hidden file, personal data redacted, plain characters."""
    base = Path(str(name).replace("\\", "/")).name
    suffix = Path(base).suffix
    if suffix.lower() not in SUPPORTED:
        raise KnowledgeError(f"{redact(base)!r}: unsupported file type (one of {', '.join(sorted(SUPPORTED))})")
    stem = redact_id(base)[: -len(suffix)]  # redact_id keeps a known suffix at the end, as it was
    return (_UNSAFE.sub("-", stem).lstrip(". -")[:120] or "upload") + suffix.lower()


def ingest_paths(svc, person: Person | None, paths: Iterable[str | Path], collection: str | None = None,
                 prune: bool = False, progress: Progress | None = None, bar: bool = False) -> Change:
    """Ingest server files or folders inside the knowledge roots (`prune` deletes documents no longer there)."""
    raw = list(paths)
    who = _editor(svc, person, "ingest", collection, {"paths": [str(p) for p in raw]})
    try:
        resolved = [server_path(svc.settings, p) for p in raw]
    except OutsideRootsError as exc:
        _refused(svc, who, "ingest", collection, exc, {"paths": [str(p) for p in raw]})
        raise
    return _apply(svc, who, "knowledge_ingested", collection, resolved, roots(svc.settings), prune, progress, bar,
                  {"paths": [str(p) for p in resolved], "prune": prune})


def upload(svc, person: Person | None, files: Sequence[tuple[str, bytes]], collection: str | None = None,
           replace: bool = False, progress: Progress | None = None) -> Change:
    """Save uploaded (name, bytes) files under the data directory and ingest them. A document id already in the
    collection is refused (DocumentExistsError) unless `replace`, which is audited as a replace."""
    who = _editor(svc, person, "upload", collection, {"files": [str(n) for n, _ in files]})
    folder = Path(svc.settings.data_dir) / "uploads" / _name(svc, collection)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".staging-") as tmp:  # same disk: a move, not a copy
        staged = _stage(Path(tmp), files)
        existing = _existing(svc, staged, collection)
        names = [p.name for p in staged]
        if existing and not replace:
            verb = "already exists" if len(existing) == 1 else "already exist"
            exc = DocumentExistsError(f"{', '.join(existing)} {verb} in {_name(svc, collection)}; replace it "
                                      "explicitly", existing)
            _refused(svc, who, "upload", collection, exc, {"files": names, "existing": existing})
            raise exc
        saved = [p.replace(folder / p.name) for p in staged]
    return _apply(svc, who, "knowledge_replaced" if existing else "knowledge_uploaded", collection, saved, [folder],
                  False, progress, False, {"files": names}, replaced=existing)


def upload_conflicts(svc, files: Sequence[tuple[str, bytes]], collection: str | None = None) -> list[str]:
    """Document ids these uploads would replace (read from a scratch copy; nothing is saved or changed)."""
    supported = [(n, data) for n, data in files if Path(str(n)).suffix.lower() in SUPPORTED]
    with tempfile.TemporaryDirectory(prefix="kb-check-") as tmp:
        return _existing(svc, _stage(Path(tmp), supported), collection)


def delete(svc, person: Person | None, doc_ids: Sequence[str], collection: str | None = None) -> Change:
    """Delete whole documents by id; ids not in the collection are refused before anything is deleted."""
    who = _editor(svc, person, "delete", collection, {"doc_ids": list(doc_ids)})
    store, name = svc.store(collection), _name(svc, collection)
    known = store.doc_hashes()
    unknown = [d for d in doc_ids if d not in known]
    if unknown or not doc_ids:
        raise KnowledgeError(f"not in {name}: {', '.join(unknown)}" if unknown else "no document ids to delete")
    ids = sorted(set(doc_ids))
    store.delete_docs(ids)
    store.bump_generation()
    change = Change(name, IngestReport(deleted=len(ids)), deleted=ids)
    _record(svc, who, "knowledge_deleted", change, {})
    return change


# ---- what every action shares ------------------------------------------------------------------------------------
def _stage(folder: Path, files: Sequence[tuple[str, bytes]]) -> list[Path]:
    staged = []
    for name, data in files:
        staged.append(folder / safe_name(name))
        staged[-1].write_bytes(bytes(data))
    return staged


def _existing(svc, files: list[Path], collection: str | None) -> list[str]:
    """Ids of the documents in `files` (as ingestion derives them) that the collection already holds."""
    return sorted({d.doc_id for d in read_documents(files)} & set(svc.store(collection).doc_hashes()))


def _name(svc, collection: str | None) -> str:
    return collection or svc.settings.collection


def _editor(svc, person: Person | None, action: str, collection: str | None, evidence: dict) -> str:
    try:
        return require_editor(svc.settings, person)
    except KnowledgeAccessError as exc:
        _refused(svc, getattr(person, "id", None), action, collection, exc, evidence, editor=False)
        raise


def _refused(svc, who: str | None, action: str, collection: str | None, exc: Exception, evidence: dict,
             editor: bool = True) -> None:
    svc.audit.record(f"knowledge:refused:{uuid.uuid4().hex}", "-", "knowledge", "knowledge_refused",
                     f"{action} refused: {exc}"[:500], actor=_actor(who, "editor" if editor else "person"),
                     evidence={"action": action, "collection": _name(svc, collection), **_capped(evidence)})


def _apply(svc, who: str, event: str, collection: str | None, paths: list[Path], within: list[Path], prune: bool,
           progress: Progress | None, bar: bool, evidence: dict, replaced: list[str] | None = None) -> Change:
    """Ingest `paths` and audit what changed in the store, also when ingestion failed half-way."""
    store, name = svc.store(collection), _name(svc, collection)
    before = store.doc_hashes()
    change, failed = Change(name, IngestReport(), replaced=list(replaced or [])), None
    try:
        change.report = ingest(paths, store, svc.search_embedder, prune=prune, progress=bar, within=within,
                               on_progress=progress)
    except Exception as exc:
        failed = exc
        raise
    finally:
        after = store.doc_hashes()
        change.added = sorted(set(after) - set(before))
        change.deleted = sorted(set(before) - set(after))
        change.updated = sorted(d for d in set(after) & set(before) if after[d] != before[d])
        if failed is None or change.added or change.deleted or change.updated:
            _record(svc, who, event if failed is None else "knowledge_ingest_failed", change,
                    {**evidence, **({"error": str(failed)[:300]} if failed else {})})
    return change


def _record(svc, who: str, event: str, change: Change, evidence: dict) -> None:
    r = change.report
    counts = {"added": len(change.added), "updated": len(change.updated), "deleted": len(change.deleted),
              "replaced": len(change.replaced), "unchanged": r.unchanged, "chunks": r.chunks,
              "skipped": len(r.skipped)}
    ids = {k: getattr(change, k) for k in ("added", "updated", "deleted", "replaced") if getattr(change, k)}
    svc.audit.record(f"knowledge:{event}:{uuid.uuid4().hex}", "-", "knowledge", event,
                     f"{event.removeprefix('knowledge_')} in {change.collection} by {who}: "
                     + ", ".join(f"{n} {k}" for k, n in counts.items() if n),
                     actor=_actor(who), evidence={"collection": change.collection, "counts": counts,
                                                  **_capped({**evidence, **ids})})


def _actor(who: str | None, kind: str = "editor") -> str:
    """`editor:<id>` for a person the gate let through; a refused one is only `person:<id>`, or `anonymous`."""
    return f"{kind}:{redact(str(who))[:64]}" if who else "anonymous"


def _capped(evidence: dict[str, Any]) -> dict[str, Any]:
    """Lists of ids or names cut to LISTED entries (the counts say how many there were)."""
    return {k: [redact(str(x)) for x in v[:LISTED]] if isinstance(v, list) else v for k, v in evidence.items()}
