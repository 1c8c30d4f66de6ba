"""Engines, sessions and migrations for the configured database URL.

SQLite (the embedded default) needs nothing started; PostgreSQL must have PostGIS available
(Debian: ``apt-get install postgresql-15-postgis-3``). The schema is created and upgraded only by
Alembic migrations, so a database is always at a known revision.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from missions.errors import StorageError

__all__ = [
    "current_revision",
    "head_revision",
    "make_engine",
    "require_schema",
    "session_scope",
    "upgrade",
]

_MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite files the parent folder is created."""
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise StorageError(
            f"cannot parse database URL {url!r}; use sqlite:///path/file.db or "
            "postgresql+psycopg://user@host:5432/dbname"
        ) from e
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10)
    raise StorageError(
        f"unsupported database {parsed.get_backend_name()!r}; use SQLite or PostgreSQL + PostGIS"
    )


def _alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent)."""
    try:
        command.upgrade(_alembic_config(engine), revision)
    except OperationalError as e:
        raise StorageError(
            f"cannot reach the database at {engine.url.render_as_string(hide_password=True)}: "
            f"{e.orig}; check the URL and that the server is running"
        ) from e
    except ProgrammingError as e:
        if "postgis" in str(e).lower():
            raise StorageError(
                "PostGIS is not available in this PostgreSQL server; install it "
                "(Debian: apt-get install postgresql-15-postgis-3) or use SQLite"
            ) from e
        raise


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session, session.begin():
        yield session


def require_schema(engine: Engine) -> None:
    """Refuse to work on a database that was never initialised or is behind."""
    try:
        current = current_revision(engine)
    except OperationalError as e:
        raise StorageError(f"cannot open the database: {e.orig}; check --db") from e
    if current is None:
        raise StorageError("the database is empty; run `nestpatrol init` first")
    if current != head_revision():
        raise StorageError(
            f"the database schema is at {current}, this version needs {head_revision()}; "
            "run `nestpatrol init` to upgrade it"
        )
