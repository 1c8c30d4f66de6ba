"""Options, settings and output helpers shared by the CLI commands."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from missions.errors import FeatureProblem
from missions.settings import Settings, load_settings
from missions.storage import make_engine, require_schema

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default sqlite:///<data dir>/nestpatrol.db; "
        "env NESTPATROL_DATABASE_URL).",
        show_default=False,
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data directory (default ./nestpatrol-data; env NESTPATROL_DATA_DIR).",
        show_default=False,
    ),
]


def settings_for(db: str | None, data_dir: Path | None, **more: object) -> Settings:
    return load_settings(database_url=db, data_dir=data_dir, **more)


def engine_for(settings: Settings, *, require: bool = True) -> Engine:
    engine = make_engine(settings.db_url, pool=settings.db_pool)
    if require:
        require_schema(engine)
    return engine


def print_problems(title: str, problems: Sequence[FeatureProblem], *, style: str) -> None:
    if not problems:
        return
    table = Table(title=title, title_style=style, show_lines=False)
    table.add_column("feature", justify="right")
    table.add_column("problem")
    table.add_column("fix")
    for p in problems:
        table.add_row("file" if p.index is None else str(p.index), p.problem, p.fix)
    console.print(table)
