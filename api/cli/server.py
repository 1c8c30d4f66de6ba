"""`nestpatrol serve` and `nestpatrol users add`."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from api.auth.models import Role
from api.auth.service import create_user
from api.cli.common import DataDirOption, DbOption, console, engine_for, settings_for
from missions.errors import MissionsError


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
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Serve the HTTP API (refuses the built-in secret outside --dev)."""
    import uvicorn  # noqa: PLC0415  (deferred: only serving needs the web stack)

    from api.http.app import create_app  # noqa: PLC0415

    settings = settings_for(db, data_dir, dev_mode=dev or None, host=host, port=port)
    app = create_app(settings)
    console.print(f"serving on http://{settings.host}:{settings.port} (docs at /docs)")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")


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
