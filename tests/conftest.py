"""Shared fixtures: database backends (SQLite always, PostGIS when a server is reachable)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from missions.storage import make_engine, upgrade

PG_ADMIN_URL = os.environ.get(
    "NESTPATROL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
_postgis_status: dict[str, str] = {}


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


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    reason = _postgis_reason()
    if reason:
        pytest.skip(f"PostGIS backend skipped: {reason}")
    name = f"nestpatrol_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


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
