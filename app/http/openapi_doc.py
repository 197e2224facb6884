"""What the OpenAPI document says beyond FastAPI's defaults: how to authenticate, and every error a route answers.

FastAPI documents 200 and 422 only, while this service answers validation errors as 400 (app/http/api.py) and
refuses with 401/403/404/409/413/429/503, always as `{"error": "…"}`. Each route's possible errors are declared
once per router (`ERRORS_*`); the 422 FastAPI adds is replaced by the 400 the service really sends.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    error: str = Field(description="What went wrong, in words a person can act on.")


def _errors(**codes: str) -> dict[int | str, dict[str, Any]]:
    return {int(code.removeprefix("e")): {"model": ErrorBody, "description": text} for code, text in codes.items()}


COMMON = _errors(e400="Bad input: the body or a parameter is invalid, or the message cannot be processed.",
                 e401="Missing or unknown credentials.",
                 e413="The request body is over the size limit.",
                 e429="Over this caller's rate limit; retry after `Retry-After` seconds.",
                 e503="This worker is still starting (or failed to start); retry after `Retry-After` seconds.")
CONVERSATIONS = {**COMMON, **_errors(
    e403="The key may not act for this customer or thread.",
    e404="Unknown thread, or one that is not this caller's.",
    e409="The thread is busy with another message, or the message id was already used for other text.")}
TEAM = {**COMMON, **_errors(
    e403="A channel key on a team route, or a person without the role, queue or limit this needs.",
    e404="Unknown thread, review, group or ticket.",
    e409="The state refuses it: no pending review, a ticket that moved since `expect_status`, a closed ticket, or "
         "a thread busy with another run.")}


def install(app: FastAPI) -> None:
    """The app's OpenAPI document, built once: FastAPI's, less the 422 responses the service never sends."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            for path in doc.get("paths", {}).values():
                for operation in path.values():
                    operation.get("responses", {}).pop("422", None)
            schemas = doc.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi
