"""Schemathesis against the OpenAPI document, once per role: no endpoint answers 5xx.

Bounded for the suite (a few examples per operation); raise NESTPATROL_FUZZ_EXAMPLES for a longer
run (`NESTPATROL_FUZZ_EXAMPLES=200 .venv/bin/pytest tests/api/fuzz`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
import schemathesis
import shapely
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from starlette.testclient import TestClient

from api.auth.models import Role
from api.auth.service import create_user
from api.http.app import create_app
from missions.fleet import Nest
from missions.flows.grid import build_and_store
from missions.geo.crs import WGS84
from missions.geo.layers import LayerKind
from missions.settings import Settings
from missions.storage import make_engine, save_layer, save_nests, upgrade

EXAMPLES = int(os.environ.get("NESTPATROL_FUZZ_EXAMPLES", "4"))
PASSWORD = "a long enough password"
ROLES = [Role.ADMIN, Role.DISPATCHER, Role.OFFICER, Role.PLANNER]


def _app(tmp: Path) -> object:
    url = f"sqlite:///{tmp / 'fuzz.db'}"
    engine = make_engine(url)
    upgrade(engine)
    district = shapely.box(113.30, 22.90, 113.31, 22.91)
    save_layer(
        engine,
        LayerKind.BOUNDARY,
        gpd.GeoDataFrame({"name": ["D"]}, geometry=[district], crs=WGS84),
        source="t",
    )
    build_and_store(engine, cell_size_m=250)
    save_nests(engine, [Nest("N01", 113.305, 22.905, 5.0)])
    for role in ROLES:
        create_user(
            engine,
            username=role.value,
            password=PASSWORD,
            role=role,
            jurisdictions=["J1"] if role is Role.OFFICER else [],
            actor="test",
        )
    engine.dispose()
    return create_app(Settings(database_url=url, dev_mode=True, login_attempts_per_minute=10_000))


@pytest.fixture(scope="module")
def tokens(app: object) -> dict[Role, str]:
    with TestClient(app) as client:  # type: ignore[arg-type]
        out = {}
        for role in ROLES:
            r = client.post(
                "/api/v1/auth/login", json={"username": role.value, "password": PASSWORD}
            )
            out[role] = r.json()["access_token"]
        return out


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    application = _app(tmp_path_factory.mktemp("fuzz"))
    yield application
    application.state.engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def api_schema(app: object) -> object:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_no_server_errors(api_schema: object, tokens: dict[Role, str]) -> None:
    """Every generated request to every operation, sent as each role and anonymously: no 5xx."""
    operations = [result.ok() for result in api_schema.get_all_operations()]  # type: ignore[attr-defined]
    assert len(operations) >= 10
    headers = [{"Authorization": f"Bearer {t}"} for t in tokens.values()] + [{}]
    calls = 0
    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            nonlocal calls
            for h in headers:
                response = case.call(headers=h)
                calls += 1
                case.validate_response(response, checks=[not_a_server_error])

        check()
    print(f"schemathesis: {len(operations)} operations, {calls} requests, no 5xx")
