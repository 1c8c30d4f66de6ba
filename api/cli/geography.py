"""`nestpatrol import boundary|jurisdictions|nofly|priority|permits FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import (
    DataDirOption,
    DbOption,
    console,
    engine_for,
    print_problems,
    settings_for,
)
from missions.flows.geography import import_layer
from missions.geo.crs import parse_input_crs
from missions.geo.layers import LayerKind

app = typer.Typer(
    help="Import geography layers (GeoJSON, GeoPackage, Shapefile).", no_args_is_help=True
)

InputCrsOption = Annotated[
    str | None,
    typer.Option(
        "--input-crs",
        help="CRS of the file's coordinates: gcj02, wgs84 or EPSG:<code> (default: from the file).",
        show_default=False,
    ),
]
SkipOption = Annotated[
    bool,
    typer.Option(
        "--skip-invalid",
        help="Import the good features and report the rejected ones (default: reject the file).",
    ),
]
FileArg = Annotated[Path, typer.Argument(help="The layer file.", show_default=False)]


def _run(
    kind: LayerKind,
    file: Path,
    input_crs: str | None,
    skip: bool,
    db: str | None,
    data_dir: Path | None,
) -> None:
    settings = settings_for(db, data_dir)
    engine = engine_for(settings)
    crs = parse_input_crs(input_crs) if input_crs else None
    summary = import_layer(engine, file, kind, input_crs=crs, tz=settings.tz, skip_invalid=skip)
    print_problems(f"{file.name}: rejected features", summary.rejected, style="bold red")
    print_problems(f"{file.name}: notes", summary.notes, style="yellow")
    console.print(
        f"[green]imported[/] {summary.stored} {kind.value} feature(s) from {file} "
        f"(source CRS {summary.source_crs}, stored in WGS-84)"
    )
    if kind is not LayerKind.PERMITS:
        console.print("run [bold]nestpatrol grid build[/] to bring the cells up to date")


_HELP = {
    LayerKind.BOUNDARY: "The district boundary (its features are merged into one).",
    LayerKind.JURISDICTIONS: "Street/town polygons: properties code, name, level, "
    "dispatch_contact.",
    LayerKind.NOFLY: "No-fly zones: optional floor_m, ceiling_m, active_from/active_to, "
    "daily_start/daily_end (local HH:MM).",
    LayerKind.PRIORITY: "Priority areas: property priority = core | standard | low.",
    LayerKind.PERMITS: "Permits: kind = construction | night_work | disposal_site, "
    "valid_from, valid_to.",
}


def _register(kind: LayerKind) -> None:
    def command(
        file: FileArg,
        input_crs: InputCrsOption = None,
        skip_invalid: SkipOption = False,
        db: DbOption = None,
        data_dir: DataDirOption = None,
    ) -> None:
        _run(kind, file, input_crs, skip_invalid, db, data_dir)

    command.__doc__ = _HELP[kind]
    app.command(kind.value)(command)


for _kind in LayerKind:
    _register(_kind)
