"""The deployment's secret key, kept outside every database: audit HMACs and signed review decisions use it.

`SUPPORT_SECRET_KEY` (shared by every worker and host) wins; otherwise a random key is created once in
`SUPPORT_SECRET_KEY_FILE` (default `<data dir>/secret.key`, mode 0600). Each use derives its own subkey, so a key
leaked from one purpose does not forge another. Whoever holds the key *and* the database can still rewrite history.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any


def key_file(settings: Any) -> Path:
    return Path(settings.secret_key_file or Path(settings.data_dir) / "secret.key")


def master_key(settings: Any) -> bytes:
    if settings.secret_key:
        return settings.secret_key.get_secret_value().encode()
    path = key_file(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: of two processes creating it at once, one writes and both read the same key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
    text = path.read_text().strip()
    if not text:
        raise ValueError(f"{path}: secret key file is empty")
    return text.encode()


def subkey(settings: Any, purpose: str) -> bytes:
    """A key for one purpose ("audit", "review-signature", …), derived from the master key."""
    return hmac.new(master_key(settings), purpose.encode(), hashlib.sha256).digest()
