"""Shared fixtures: database backends (SQLite always, PostGIS when a server is reachable), and a
small, hand-checkable sortie from a nest in Panyu (take off, transit, one survey strip with a
loiter, transit back, land) for the exporters and the vehicle links."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from missions.fleet.profiles import Nest
from missions.planning.sortie import Sortie, Waypoint, WaypointAction
from missions.storage import make_engine, upgrade

PG_ADMIN_URL = os.environ.get(
    "NESTPATROL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
_postgis_status: dict[str, str] = {}

# CI (.ci/run sets HYPOTHESIS_PROFILE=ci) draws the property tests' examples from a fixed stream:
# a run goes red for a change in the code, never for a new draw. Local runs keep exploring and
# replay what they found from .hypothesis/; a failure found there is pinned with @example.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def _postgis_reason() -> str | None:
    """None when PostGIS can be used for tests, else why not."""
    if "reason" in _postgis_status:
        return _postgis_status["reason"] or None
    reason = ""
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            available = conn.execute(
                text("select 1 from pg_available_extensions where name = 'postgis'")
            ).first()
        admin.dispose()
        if available is None:
            reason = (
                "PostgreSQL is reachable but PostGIS is not installed (postgresql-15-postgis-3)"
            )
    except OperationalError as e:
        reason = f"no PostgreSQL server at {PG_ADMIN_URL} ({str(e.orig).strip().splitlines()[0]})"
    _postgis_status["reason"] = reason
    return reason or None


@contextmanager
def backend_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database URL on ``backend`` (sqlite | postgis), dropped afterwards.

    Skips the calling test, with the reason, when PostGIS cannot be used.
    """
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    reason = _postgis_reason()
    if reason:
        pytest.skip(f"PostGIS backend skipped: {reason}")
    name = f"nestpatrol_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


BACKENDS = ["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)]


@pytest.fixture(params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    with backend_url(request.param, tmp_path_factory) as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine on each backend."""
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reason = _postgis_status.get("reason")
    if reason is None:
        return
    if reason:
        terminalreporter.write_line(f"PostGIS backend: SKIPPED — {reason}", yellow=True)
    else:
        terminalreporter.write_line(f"PostGIS backend: tested against {PG_ADMIN_URL}", green=True)


NEST_LON, NEST_LAT, NEST_ELEV_M = 113.3841234, 22.9371234, 12.5


@pytest.fixture
def nest() -> Nest:
    return Nest(nest_id="nest-07", lon=NEST_LON, lat=NEST_LAT, ground_elevation_m=NEST_ELEV_M)


@pytest.fixture
def sortie() -> Sortie:
    a = WaypointAction
    wps = [
        Waypoint(NEST_LON, NEST_LAT, 60.0, 12.0, a.TAKEOFF),
        Waypoint(113.3901111, 22.9402222, 100.0, 12.0, a.TRANSIT),
        Waypoint(113.3912345, 22.9412345, 100.0, 10.0, a.SURVEY_START, trigger_spacing_m=41.5),
        Waypoint(113.3962345, 22.9412345, 100.0, 10.0, a.SURVEY),
        Waypoint(113.3962345, 22.9422345, 100.0, 10.0, a.SURVEY),
        Waypoint(113.3912345, 22.9422345, 100.0, 14.0, a.SURVEY_END),
        Waypoint(113.3900001, 22.9400001, 90.0, 14.0, a.LOITER),
        Waypoint(NEST_LON, NEST_LAT, 60.0, 5.0, a.TRANSIT),
        Waypoint(NEST_LON, NEST_LAT, 0.0, 2.0, a.LAND),
    ]
    return Sortie(
        sortie_id="s-0001",
        nest_id="nest-07",
        waypoints=wps,
        cell_ids=["c1", "c2", "c3"],
        estimated_duration_s=612.0,
        planned_start=datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
    )
