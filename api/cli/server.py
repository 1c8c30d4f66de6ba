"""`nestpatrol serve` and `nestpatrol users add`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from api.auth.models import Role
from api.auth.service import create_user
from api.cli.common import DataDirOption, DbOption, console, engine_for, settings_for
from api.cli.db import engine_of, schema_problem
from missions.errors import MissionsError, StorageError
from missions.settings import Settings, load_settings
from missions.storage import upgrade

if TYPE_CHECKING:
    from fastapi import FastAPI


def serve(
    dev: Annotated[
        bool, typer.Option("--dev", help="Development mode: allows the built-in secret.")
    ] = False,
    host: Annotated[
        str | None, typer.Option(help="Bind address [default: 127.0.0.1].", show_default=False)
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port [default: 8000].", show_default=False)
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Server processes (PostgreSQL; each opens its own connection pool)."
        ),
    ] = 1,
    migrate: Annotated[
        bool,
        typer.Option(
            "--migrate", help="Apply pending migrations before serving (else refuse to start)."
        ),
    ] = False,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Serve the HTTP API (refuses the built-in secret outside --dev, and an old schema)."""
    import uvicorn  # noqa: PLC0415  (deferred: only serving needs the web stack)

    from api.http.app import create_app  # noqa: PLC0415

    settings = settings_for(db, data_dir, dev_mode=dev or None, host=host, port=port)
    settings.check_server_secret()
    _prepare_schema(settings, migrate=migrate)
    console.print(
        f"serving on http://{settings.host}:{settings.port} (docs at /docs), "
        f"{workers} worker{'s' if workers > 1 else ''}"
    )
    if workers == 1:
        app = create_app(settings)
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
        return
    if settings.db_url.startswith("sqlite"):
        console.print("[yellow]note[/]: SQLite takes one writer at a time; use PostgreSQL")
    # worker processes build their own app from the environment: hand them these settings
    os.environ["NESTPATROL_DATABASE_URL"] = settings.db_url
    os.environ["NESTPATROL_DATA_DIR"] = str(settings.data_dir)
    os.environ["NESTPATROL_DEV_MODE"] = "true" if settings.dev_mode else "false"
    uvicorn.run(
        "api.cli.server:app_from_env",
        factory=True,
        workers=workers,
        host=settings.host,
        port=settings.port,
        log_level="info",
    )


def _prepare_schema(settings: Settings, *, migrate: bool) -> None:
    """Upgrade the schema if asked to; refuse to serve on one this version cannot use."""
    engine = engine_of(settings)
    try:
        if migrate:
            upgrade(engine)
        problem = schema_problem(engine)
    finally:
        engine.dispose()
    if problem is not None:
        raise StorageError(f"refusing to start: {problem}")


def app_from_env() -> FastAPI:
    """The app of one ``serve --workers N`` process (settings from ``NESTPATROL_*``)."""
    from api.http.app import create_app  # noqa: PLC0415

    return create_app(load_settings())


users = typer.Typer(help="Users of the API and the web map.", no_args_is_help=True)


@users.command("add")
def add_user(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[Role, typer.Option("--role", help="admin, dispatcher, officer or planner.")],
    jurisdiction: Annotated[
        list[str] | None, typer.Option("--jurisdiction", help="Officer scope (repeatable).")
    ] = None,
    password_env: Annotated[
        str | None,
        typer.Option(
            "--password-env",
            help="Read the password from this environment variable instead of prompting.",
        ),
    ] = None,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create a user; the password is prompted (or read from --password-env)."""
    if password_env:
        password = os.environ.get(password_env, "")
        if not password:
            raise MissionsError(f"environment variable {password_env} is empty or unset")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    engine = engine_for(settings_for(db, data_dir))
    create_user(
        engine,
        username=username,
        password=password,
        role=role,
        jurisdictions=list(jurisdiction or []),
        actor="cli",
    )
    console.print(f"[green]created[/] {role.value} {username!r}")
