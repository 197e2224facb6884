"""Logging that cannot leak personal data: every record is redacted before any handler sees it."""

from __future__ import annotations

import logging

from knowledge.pii import redact

LOGGER = "supportflow"


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


def get_logger(name: str = "") -> logging.Logger:
    logger = logging.getLogger(f"{LOGGER}.{name}" if name else LOGGER)
    return logger


def configure(level: str = "WARNING") -> None:
    root = logging.getLogger(LOGGER)
    root.setLevel(level.upper())
    if not any(isinstance(f, RedactingFilter) for f in root.filters):
        root.addFilter(RedactingFilter())
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
