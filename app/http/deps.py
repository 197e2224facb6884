"""What route handlers share: the worker's desk, once it is ready."""

from __future__ import annotations

from fastapi import Request

from app.desk import SupportDesk


class NotReady(RuntimeError):
    """The worker is still starting (schema, models): 503 with Retry-After."""


def desk_of(request: Request) -> SupportDesk:
    if not request.app.state.ready:
        raise NotReady(request.app.state.startup_error or "starting: models are loading, retry shortly")
    return request.app.state.desk
