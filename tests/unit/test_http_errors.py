"""The HTTP API maps errors by type: every kind of busy thread is a retryable 409, whatever its class is called."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.http.api import create_app
from app.store.thread_locks import LockLostError, ThreadBusyError


@pytest.mark.parametrize("error", [ThreadBusyError("t-1", 0.5), LockLostError("t-1")])
def test_a_busy_thread_is_a_retryable_conflict(error):
    app = create_app()  # no lifespan without `with TestClient(...)`: nothing starts

    @app.get("/busy")
    def busy():
        raise error

    response = TestClient(app).get("/busy")
    assert response.status_code == 409 and response.headers["Retry-After"] == "1"
    assert response.json() == {"error": str(error)}
