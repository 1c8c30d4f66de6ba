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

__all__ = ["TestClient", "client", "engine", "module_engine"]


@pytest.fixture
def client(engine: Engine) -> TestClient:
    from api.open311.views import router

    app = FastAPI()
    app.state.engine = engine
    app.include_router(router)
    return TestClient(app)
