"""Open311 fixtures: the shared per-module database and a TestClient on the router."""

from __future__ import annotations

import warnings

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.exceptions import StarletteDeprecationWarning

from ..clues.conftest import engine, module_engine

with warnings.catch_warnings():
    # starlette ≥ 1.10 asks for httpx2 in its TestClient and warns once at import when it falls
    # back to httpx (which works); the project pins httpx
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

__all__ = ["TestClient", "bare_client", "client", "engine", "module_engine"]


@pytest.fixture
def bare_client(engine: Engine) -> TestClient:
    """A client that sends no credentials."""
    from api.open311.views import router

    app = FastAPI()
    app.state.engine = engine
    app.include_router(router)
    return TestClient(app)


@pytest.fixture
def client(bare_client: TestClient, engine: Engine) -> TestClient:
    """A client sending a dispatch system's API key, as Open311 consumers do."""
    from api.auth.models import Role
    from api.auth.service import create_api_key

    key = create_api_key(
        engine, name="dispatch hub", role=Role.DISPATCHER, jurisdictions=[], actor="t"
    )
    bare_client.headers["X-API-Key"] = key
    return bare_client
