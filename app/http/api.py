"""The FastAPI application: `create_app()` builds it; uvicorn runs it (`python -m app serve --workers N`).

Start-up (schema upgrade under a try-lock, services, models warmed) runs in the background so `/healthz`
answers at once while `/readyz` stays 503 until this worker can answer a message without a cold start.
Errors are JSON `{"error": …}` with the CLI's messages: 400 bad input, 401/403 auth, 404 unknown, 409 conflict.
Two middlewares answer before any of that: a body over `max_body_bytes` is 413 (body_limit.py), a caller over its
`rate_limit` budget on /v1 is 429 (rate_limit.py); they are built here, from the settings given, so a bad value
stops the server at start.
"""

from __future__ import annotations

import os
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from agents.compliance.hitl import ReviewPayloadError
from agents.compliance.reviewers import ReviewerError
from agents.supervisor.conversation import MessageError
from app import telemetry
from app.desk import SupportDesk
from app.http import openapi_doc, routes_messages, routes_team, routes_tickets
from app.http.auth import load_channels
from app.http.body_limit import BodyLimitMiddleware, too_large
from app.http.deps import NotReady
from app.http.rate_limit import RateLimitMiddleware, budgets_from
from app.review.groups import GroupNotFoundError
from app.schema import upgrade
from app.services import Services
from app.settings import Settings
from app.store.owners import MessageIdConflictError
from app.store.thread_locks import ThreadBusyError
from app.threads import NoPendingReviewError, UnknownThreadError

API_VERSION = "v1"


def _status(exc: Exception) -> int:
    if isinstance(exc, ThreadBusyError):
        return 409
    if isinstance(exc, ReviewerError):
        return 403
    if isinstance(exc, (UnknownThreadError, GroupNotFoundError)):
        return 404
    if isinstance(exc, (NoPendingReviewError, MessageIdConflictError)):
        return 409
    return 400


def _start(app: FastAPI, settings: Settings | None) -> None:
    try:
        settings = settings or Settings()
        upgrade(settings)
        services = Services.from_settings(settings)
        desk = SupportDesk(services=services)
        services.warm_up()  # the first request must not pay for model loading (recorded as warm-up)
        app.state.desk = desk
        app.state.ready = True
    except Exception as exc:  # reported by /readyz; the worker stays up so operators can see why
        app.state.startup_error = f"{type(exc).__name__}: {exc}"


def create_app(settings: Settings | None = None, warm_in_background: bool = True) -> FastAPI:
    settings = settings or Settings()
    budgets = budgets_from(settings)  # RateLimitConfigError here: uvicorn's factory fails and the server exits

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.ready, app.state.desk, app.state.startup_error = False, None, None
        app.state.channels = load_channels(settings)
        if warm_in_background:
            threading.Thread(target=_start, args=(app, settings), daemon=True, name="supportflow-start").start()
        else:
            _start(app, settings)
        yield
        if app.state.desk is not None:
            await app.state.desk.aclose()
            app.state.desk.close()

    # FastAPIOffline: /docs serves Swagger UI from the package's own files, so it renders without a network.
    app = FastAPIOffline(title="SupportFlow", version="1", lifespan=lifespan, redoc_url=None,
                         description="Customer-support orchestration: conversations, human review, tickets, audit. "
                                     "Authorize with a channel key or a reviewer token (`Authorization: Bearer`).")
    openapi_doc.install(app)

    @app.exception_handler(MessageError)
    @app.exception_handler(ReviewPayloadError)
    @app.exception_handler(LookupError)
    async def _known(request: Request, exc: Exception) -> JSONResponse:
        headers = {"Retry-After": "1"} if isinstance(exc, ThreadBusyError) else None
        return JSONResponse({"error": str(exc)}, status_code=_status(exc), headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 413:  # a chunked body stopped at the limit: the rest of it is not worth receiving
            return JSONResponse({"error": too_large(settings.max_body_bytes)}, status_code=413,
                                headers={"Connection": "close"})
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(NotReady)
    async def _not_ready(request: Request, exc: NotReady) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=503, headers={"Retry-After": "2"})

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        return JSONResponse({"error": f"invalid request: {problems}"}, status_code=400)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    async def readyz(request: Request) -> JSONResponse:
        state = request.app.state
        if state.ready:  # the worker's pid: with --workers N, a caller can tell when every worker is ready
            return JSONResponse({"status": "ready", "worker": os.getpid()})
        body = {"status": "failed", "error": state.startup_error} if state.startup_error else {"status": "starting"}
        return JSONResponse({**body, "worker": os.getpid()}, status_code=503)

    @app.get("/metrics", tags=["health"], response_class=Response,
             responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}})
    def metrics(request: Request) -> Response:
        """Prometheus metrics (app/telemetry.py): turns by outcome and intent, turn times, LLM calls, tokens and
        cost, thread lock waits and busy refusals, and reviews waiting per queue with the oldest one's age. Open
        like the health routes: serve it on the network your monitoring scrapes from."""
        desk = request.app.state.desk
        body, kind = telemetry.exposition(lambda: desk.inbox(limit=None) if desk is not None else [])
        return Response(body, media_type=kind)

    app.include_router(routes_messages.router, prefix=f"/{API_VERSION}", responses=openapi_doc.CONVERSATIONS)
    app.include_router(routes_team.router, prefix=f"/{API_VERSION}", responses=openapi_doc.TEAM)
    app.include_router(routes_tickets.router, prefix=f"/{API_VERSION}", responses=openapi_doc.TEAM)
    if budgets is not None:
        app.add_middleware(RateLimitMiddleware, budgets=budgets, prefix=f"/{API_VERSION}")
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)  # added last: the outermost
    return app
