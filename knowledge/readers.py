"""Turn files into documents: Markdown, text, HTML, PDF and JSON / JSON Lines records.

Every reader yields Markdown-ish text (`#` headings, one paragraph or list item per line) so
one chunker handles all formats. Files get the path relative to the ingested root as their id;
records keep their own `id`.

Ids, titles and sources are redacted here, as they are read, because they travel further than a
chunk's text: into Chroma metadata, every citation the desk quotes to customers, listings and the
audit trail. Body text stays whole for the chunker and is redacted chunk by chunk at ingestion.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from knowledge.pii import redact

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
HTML_SUFFIXES = {".html", ".htm"}
RECORD_SUFFIXES = {".json", ".jsonl"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | RECORD_SUFFIXES | {".pdf"}
_LETTERS = "abcdefghijklmnop"  # a digest spelt in letters: no digit run in it can look like a phone or a card


@dataclass
class Document:
    doc_id: str
    title: str
    text: str
    source: str

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(f"{self.title}\n{self.text}".encode()).hexdigest()


def redact_id(raw: str) -> str:
    """`raw` (a relative path or a record id) without personal data, still stable and unique.

    A redacted id is marked with a short digest of the original, so two names that redact alike
    ("jane@x.org.md", "joe@y.org.md") stay two documents and the same file keeps its id. A known
    file suffix is kept apart first: the email pattern would otherwise swallow it.
    """
    head, dot, tail = raw.rpartition(".")
    stem, suffix = (head, dot + tail) if head and f".{tail.lower()}" in SUPPORTED else (raw, "")
    clean = redact(stem)
    if clean == stem:
        return raw
    mark = "".join(_LETTERS[int(c, 16)] for c in hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:10])
    return f"{clean}~{mark}{suffix}"


def redact_path(path: str) -> str:
    """A source path for display and metadata: personal data out of every component, the file suffix kept."""
    return "/".join(redact_id(part) if part else part for part in path.replace("\\", "/").split("/"))


def _doc(doc_id: str, title: str, text: str, source: str) -> Document:
    return Document(redact_id(doc_id), redact(title), text, redact_path(source))


def _title_of(text: str, fallback: str) -> str:
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return fallback


def _records(path: Path) -> Iterator[dict]:
    raw = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".jsonl":
        for n, line in enumerate(raw.splitlines(), 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as exc:
                    raise ValueError(f"line {n}: invalid JSON ({exc})") from None
        return
    data = json.loads(raw)
    yield from (data if isinstance(data, list) else [data])


def html_to_text(html: str) -> tuple[str, str]:
    """(title, markdown-ish text): headings become `#` lines, blocks become lines; scripts dropped."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "footer", "header", "form"]):
        tag.decompose()
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    lines: list[str] = []
    body = soup.body or soup
    for el in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "td", "dt", "dd", "blockquote"]):
        if el.find_parent(["li", "p", "td", "blockquote", "dd"]) is not None and el.name not in ("li",):
            continue  # nested block: its text is already in the parent's
        text = " ".join(el.get_text(" ", strip=True).split())
        if not text:
            continue
        if el.name[0] == "h" and el.name[1:].isdigit():
            lines.append("#" * int(el.name[1]) + " " + text)
            title = title or text
        else:
            lines.append(text)
    return title, "\n\n".join(lines)


def pdf_to_text(path: Path) -> tuple[str, str]:
    """(title, text) of a PDF's text layer; scanned PDFs without one come back empty."""
    reader = PdfReader(str(path))
    meta_title = (reader.metadata.title if reader.metadata else None) or ""
    pages = [(page.extract_text() or "").strip() for page in reader.pages]
    paragraphs = "\n\n".join(p for p in pages if p)
    first = next((ln.strip() for ln in paragraphs.splitlines() if ln.strip()), "")
    return str(meta_title).strip() or first[:120], paragraphs


def _read_file(f: Path, rel: str) -> Iterator[Document]:
    suffix = f.suffix.lower()
    fallback = f.stem.replace("-", " ").replace("_", " ")
    if suffix in TEXT_SUFFIXES:
        text = f.read_text(encoding="utf-8")
        if text.strip():
            yield _doc(rel, _title_of(text, fallback), text, str(f))
    elif suffix in HTML_SUFFIXES:
        title, text = html_to_text(f.read_text(encoding="utf-8", errors="replace"))
        if text.strip():
            yield _doc(rel, title or fallback, text, str(f))
    elif suffix == ".pdf":
        title, text = pdf_to_text(f)
        if not text.strip():
            raise ValueError("no extractable text (scanned PDF?)")
        yield _doc(rel, title or fallback, text, str(f))
    elif suffix in RECORD_SUFFIXES:
        for rec in _records(f):
            if not isinstance(rec, dict) or not rec.get("id") or not rec.get("content"):
                raise ValueError("records need 'id' and 'content'")
            yield _doc(str(rec["id"]), str(rec.get("title") or rec["id"]), str(rec["content"]), str(f))


def read_documents(paths: Iterable[str | Path], skipped: list[str] | None = None,
                   within: Iterable[Path] | None = None) -> Iterator[Document]:
    """Documents under `paths`; unreadable or unsupported files are reported in `skipped`, not fatal.

    With `within` (resolved folders), a file whose real path lies outside all of them is skipped unread: a
    symlink planted in an allowed folder must not pull in a file from elsewhere on the server."""
    skipped = skipped if skipped is not None else []
    fences = None if within is None else [Path(w).resolve() for w in within]
    for root in map(Path, paths):
        if not root.exists():
            raise FileNotFoundError(f"no such file or folder: {root}")
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for f in files:
            if any(part.startswith(".") for part in f.relative_to(root).parts) if root.is_dir() else False:
                continue  # .DS_Store, .git: not documents
            rel = f.relative_to(root).as_posix() if root.is_dir() else f.name
            if f.suffix.lower() not in SUPPORTED:
                skipped.append(f"{f}: unsupported file type")
                continue
            if fences is not None and not any(f.resolve().is_relative_to(w) for w in fences):
                skipped.append(f"{f}: links outside the allowed folders, not read")
                continue
            try:
                yield from _read_file(f, rel)
            except (UnicodeDecodeError, ValueError, PdfReadError, OSError) as exc:
                skipped.append(f"{f}: {exc}")
