"""`nestpatrol db upgrade|current|check|backup`: the schema and backups of the configured database.

In production the schema is changed only by an operator (`db upgrade`, or `serve --migrate`),
never silently by a server start; `db check` is what a deploy script or a restore drill runs
(exit 0: the schema is what this version needs; exit 2 and the fix otherwise).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from api.cli.common import DataDirOption, console
from missions.errors import StorageError
from missions.settings import Settings, load_settings
from missions.storage import make_engine, upgrade
from missions.storage.engine import SchemaState, head_revision, schema_state

__all__ = ["app", "engine_of", "schema_problem"]

app = typer.Typer(
    help="The database: apply migrations, show and check the schema revision, back up.",
    no_args_is_help=True,
)

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        "--db",
        help="Database URL (default sqlite:///<data dir>/nestpatrol.db; "
        "env NESTPATROL_DATABASE_URL).",
        show_default=False,
    ),
]


def _settings(database_url: str | None, data_dir: Path | None) -> Settings:
    return load_settings(database_url=database_url, data_dir=data_dir)


def engine_of(settings: Settings) -> Engine:
    """An engine on the settings' database with its pool settings (no schema check)."""
    return make_engine(settings.db_url, pool=settings.db_pool)


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def schema_problem(engine: Engine) -> str | None:
    """Why this version cannot work on the database (with the fix), or ``None`` if it can."""
    state, current = schema_state(engine)
    if state is SchemaState.CURRENT:
        return None
    if state is SchemaState.EMPTY:
        return (
            f"the database at {_where(engine)} has no schema; run `nestpatrol db upgrade` "
            "(or start the server with `nestpatrol serve --migrate`)"
        )
    if state is SchemaState.BEHIND:
        return (
            f"the database schema at {_where(engine)} is at revision {current}, this version "
            f"needs {head_revision()}; back it up (docs/production.md), then run "
            "`nestpatrol db upgrade` (or start the server with `nestpatrol serve --migrate`)"
        )
    return (
        f"the database at {_where(engine)} is at revision {current}, which this version of "
        f"NestPatrol does not know (it ships up to {head_revision()}): a newer version migrated "
        "it; run that version, or restore a backup taken before the upgrade"
    )


@app.command("upgrade")
def db_upgrade(database_url: DatabaseUrlOption = None, data_dir: DataDirOption = None) -> None:
    """Apply the Alembic migrations up to this version's head (idempotent)."""
    engine = engine_of(_settings(database_url, data_dir))
    try:
        state, before = schema_state(engine)
        if state is SchemaState.UNKNOWN:
            raise StorageError(schema_problem(engine) or "unknown schema revision")
        upgrade(engine)
        console.print(
            f"[green]schema at {head_revision()}[/] on {_where(engine)} (was {before or 'empty'})"
        )
    finally:
        engine.dispose()


@app.command("current")
def db_current(database_url: DatabaseUrlOption = None, data_dir: DataDirOption = None) -> None:
    """Print the database's schema revision and the one this version needs."""
    engine = engine_of(_settings(database_url, data_dir))
    try:
        state, current = schema_state(engine)
    finally:
        engine.dispose()
    console.print(f"{current or 'none'} ({state.value}; this version needs {head_revision()})")


@app.command("check")
def db_check(database_url: DatabaseUrlOption = None, data_dir: DataDirOption = None) -> None:
    """Exit 0 when the schema is what this version needs; otherwise exit 2 and say the fix."""
    engine = engine_of(_settings(database_url, data_dir))
    try:
        problem = schema_problem(engine)
    finally:
        engine.dispose()
    if problem is not None:
        raise StorageError(problem)
    console.print(f"[green]ok[/]: schema at {head_revision()} on {_where(engine)}")


@app.command("backup")
def db_backup(
    out: Annotated[Path, typer.Argument(help="Backup file to write (must not exist).")],
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """A consistent copy of the database while it is in use.

    SQLite: ``VACUUM INTO`` (a compact, transactionally consistent file; restore by copying it
    back). PostgreSQL: ``pg_dump --format=custom`` (restore with ``pg_restore``). The imagery
    and evidence files are not in it: copy the data directory too (docs/production.md).
    """
    settings = _settings(database_url, data_dir)
    if out.exists():
        raise StorageError(f"{out} exists; pick a new file name (backups are never overwritten)")
    out.parent.mkdir(parents=True, exist_ok=True)
    url = make_url(settings.db_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:" or not Path(url.database).exists():
            raise StorageError(
                f"no SQLite database file at {url.database!r}; check --db / --data-dir"
            )
        conn = sqlite3.connect(url.database, isolation_level=None)
        try:
            conn.execute("VACUUM INTO ?", (str(out),))
        finally:
            conn.close()
    elif backend == "postgresql":
        _pg_dump(settings.db_url, out)
    else:  # make_engine refuses other backends with the same advice
        raise StorageError(f"cannot back up a {backend!r} database; use SQLite or PostgreSQL")
    console.print(f"[green]backup[/] {out} ({out.stat().st_size:,} bytes)")


def _pg_dump(database_url: str, out: Path) -> None:
    exe = shutil.which("pg_dump")
    if exe is None:
        raise StorageError(
            "pg_dump is not installed; install the PostgreSQL client of the server's major "
            "version (Debian: apt-get install postgresql-client-15)"
        )
    url = make_url(database_url)
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)  # not on the command line: `ps` shows that
    libpq = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    done = subprocess.run(
        [exe, "--format=custom", f"--file={out}", f"--dbname={libpq}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        out.unlink(missing_ok=True)
        raise StorageError(f"pg_dump failed: {done.stderr.strip()}")
