"""Reading configuration files (policy, taxonomy, reviewer registry) and explaining what is wrong with them.

Every loader reports errors the same way: the file, then the entry by its id or key, then the field, so an
operator can fix a file without reading a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def read_yaml_mapping(path: Path, error: type[Exception], what: str, keys: str) -> tuple[str, dict]:
    """(text, mapping) of a YAML config file; every failure is `error` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror or exc})") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise error(f"{path}: expected a mapping with {keys}")
    return text, raw


def repeated(ids: list[str]) -> list[str]:
    """The ids that occur more than once, sorted: registries and directories name each entry once."""
    return sorted({i for i in ids if ids.count(i) > 1})


_loaded: dict[tuple[str, str], tuple[tuple[int, int], Any]] = {}


def load_when_changed(path: Path, load: Callable[[Path], T], error: type[Exception], what: str) -> T:
    """`load(path)`, done again only when the file changed (mtime and size): every process sees an edit of a
    registry or directory at its next use without reading and validating the file on every call."""
    try:
        st = path.stat()
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror or exc})") from exc
    key, stamp = (str(path), what), (st.st_mtime_ns, st.st_size)
    hit = _loaded.get(key)
    if hit and hit[0] == stamp:
        return hit[1]
    value = load(path)
    _loaded[key] = (stamp, value)
    return value


def load_model(path: Path, model: type[M], error: type[Exception], what: str, keys: str,
               labels: dict[str, str] | None = None) -> tuple[str, M]:
    """(text, validated model) of a YAML config file; every failure is `error` naming the file and entry."""
    text, raw = read_yaml_mapping(path, error, what, keys)
    try:
        return text, model.model_validate(raw)
    except ValidationError as exc:
        raise error(explain(f"{path}: invalid {what}", exc, raw, labels)) from None


def _where(loc: list, raw: Any, labels: dict[str, str]) -> str:
    """'rule 'x', field y' for an entry of a labelled section, else the dotted location."""
    if len(loc) >= 2 and isinstance(raw, dict) and loc[0] in labels:
        section, key, rest = raw.get(loc[0]), loc[1], ".".join(str(p) for p in loc[2:]) or "(entry)"
        if isinstance(key, int):
            item = section[key] if isinstance(section, list) and key < len(section) else None
            name = repr(item.get("id", f"#{key}")) if isinstance(item, dict) else f"#{key}"
        else:
            name = repr(key)
        return f"{labels[loc[0]]} {name}, field {rest}"
    return ".".join(str(p) for p in loc) or "(file)"


def explain(header: str, exc: ValidationError, raw: Any = None, labels: dict[str, str] | None = None) -> str:
    """A multi-line report of a config file's validation errors (labels: section → what its entries are)."""
    lines = [header]
    for err in exc.errors():
        lines.append(f"  {_where(list(err['loc']), raw, labels or {})}: {err['msg'].removeprefix('Value error, ')}")
    return "\n".join(lines)


def one_line(exc: ValidationError, limit: int = 5, empty: str = "payload") -> str:
    """The first few validation errors on one line, for payloads and records rather than files."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or empty}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()[:limit]
    )
