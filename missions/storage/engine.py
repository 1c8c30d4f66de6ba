"""Engines, sessions and migrations for the configured database URL.

SQLite (the embedded default) needs nothing started; PostgreSQL must have PostGIS available
(Debian: ``apt-get install postgresql-15-postgis-3``). The schema is created and upgraded only by
Alembic migrations, so a database is always at a known revision.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
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
    "PoolConfig",
    "SchemaState",
    "current_revision",
    "head_revision",
    "make_engine",
    "require_schema",
    "schema_state",
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


@dataclass(frozen=True)
class PoolConfig:
    """Connection pool of one process on PostgreSQL (SQLite keeps SQLAlchemy's own pool).

    Each process (every uvicorn worker, every delivery worker) holds up to
    ``size + max_overflow`` connections: keep the sum over all processes under the server's
    ``max_connections`` (or put PgBouncer in front). ``pre_ping`` tests a connection before
    handing it out, so a restarted server or a dropped idle connection costs a reconnect instead
    of an error; ``recycle_s`` replaces connections older than that (firewalls and poolers close
    idle ones).
    """

    size: int = 5
    max_overflow: int = 10
    timeout_s: float = 30.0
    recycle_s: int = 1800
    pre_ping: bool = True

    def __post_init__(self) -> None:
        if self.size < 1 or self.max_overflow < 0 or self.timeout_s <= 0 or self.recycle_s == 0:
            raise StorageError(
                f"{self}: need size ≥ 1, max_overflow ≥ 0, timeout_s > 0 and recycle_s > 0 "
                "(or -1 to never recycle); fix the NESTPATROL_DB_POOL_* settings"
            )


def make_engine(url: str, *, pool: PoolConfig | None = None) -> Engine:
    """An engine for ``url``; for SQLite files the parent folder is created.

    ``pool`` sizes the PostgreSQL connection pool (defaults: :class:`PoolConfig`); it is ignored
    for SQLite, where the file lock, not a pool, bounds concurrency.
    """
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
        pool = pool or PoolConfig()
        return create_engine(
            parsed,
            pool_size=pool.size,
            max_overflow=pool.max_overflow,
            pool_timeout=pool.timeout_s,
            pool_recycle=pool.recycle_s,
            pool_pre_ping=pool.pre_ping,
        )
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
    """The newest migration this version of NestPatrol ships."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None``: never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    factory = sessionmaker(engine, expire_on_commit=False)
    with factory() as session, session.begin():
        yield session


class SchemaState(StrEnum):
    EMPTY = "empty"  # never migrated
    BEHIND = "behind"  # an older revision of ours: upgrade
    CURRENT = "current"
    UNKNOWN = "unknown"  # a revision this version does not ship (newer code migrated it)


def schema_state(engine: Engine) -> tuple[SchemaState, str | None]:
    """Where the database stands against this version's migrations, and its revision."""
    try:
        current = current_revision(engine)
    except OperationalError as e:
        raise StorageError(
            f"cannot open the database at {engine.url.render_as_string(hide_password=True)}: "
            f"{e.orig}; check the URL (--db or NESTPATROL_DATABASE_URL) and that the server is "
            "running"
        ) from e
    if current is None:
        return SchemaState.EMPTY, None
    if current == head_revision():
        return SchemaState.CURRENT, current
    known = {s.revision for s in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}
    return (SchemaState.BEHIND if current in known else SchemaState.UNKNOWN), current


def require_schema(engine: Engine) -> None:
    """Refuse to work on a database that was never initialised or is behind."""
    try:
        current = current_revision(engine)
    except OperationalError as e:
        raise StorageError(f"cannot open the database: {e.orig}; check --db") from e
    if current is None:
        raise StorageError(
            "the database is empty; run `nestpatrol init` first "
            "(in production: `nestpatrol db upgrade`)"
        )
    if current != head_revision():
        raise StorageError(
            f"the database schema is at {current}, this version needs {head_revision()}; "
            "run `nestpatrol init` (in production: `nestpatrol db upgrade`) to upgrade it"
        )
