"""`nestpatrol grid build|stats|export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
import typer
from rich.table import Table

from api.cli.common import DataDirOption, DbOption, console, engine_for, settings_for
from missions.errors import MissionsError
from missions.flows.grid import build_and_store, build_cells, grid_stats
from missions.geo.crs import InputCrs, parse_input_crs
from missions.geo.layers import LayerKind
from missions.geo.reader import read_layer
from missions.grid import GridAttributes
from missions.grid.export import OutputCrs, write_cells
from missions.storage import load_cells

app = typer.Typer(help="The unit grid of the district.", no_args_is_help=True)

LayerFile = Annotated[
    Path | None, typer.Option(help="One-shot form: layer file.", show_default=False)
]


def _read(
    path: Path | None, kind: LayerKind, crs: InputCrs | None, tz: ZoneInfo
) -> gpd.GeoDataFrame | None:
    return None if path is None else read_layer(path, kind, input_crs=crs, tz=tz).frame


@app.command("build")
def build(
    cell_size: Annotated[
        float | None,
        typer.Option("--cell-size", help="Cell edge in metres [default: 100].", show_default=False),
    ] = None,
    boundary: LayerFile = None,
    jurisdictions: LayerFile = None,
    priority: LayerFile = None,
    nofly: LayerFile = None,
    input_crs: Annotated[
        str | None,
        typer.Option(
            "--input-crs",
            help="One-shot form: CRS of the files (gcj02, wgs84, EPSG:n).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="One-shot form: write cells here (.geojson/.gpkg) instead of the database.",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Build the grid from the stored geography, or (with --boundary and --out) from files."""
    settings = settings_for(db, data_dir, cell_size_m=cell_size)
    if boundary is not None or out is not None:
        if boundary is None or out is None:
            raise MissionsError("the one-shot form needs both --boundary FILE and --out FILE")
        crs = parse_input_crs(input_crs) if input_crs else None
        attrs = GridAttributes(
            jurisdictions=_read(jurisdictions, LayerKind.JURISDICTIONS, crs, settings.tz),
            priority_areas=_read(priority, LayerKind.PRIORITY, crs, settings.tz),
            nofly=_read(nofly, LayerKind.NOFLY, crs, settings.tz),
            ceiling_m=settings.ceiling_m,
        )
        district = read_layer(boundary, LayerKind.BOUNDARY, input_crs=crs, tz=settings.tz).frame
        built = build_cells(district.geometry.union_all(), attrs, cell_size_m=settings.cell_size_m)
        write_cells(built.cells, out)
        console.print(f"[green]wrote[/] {len(built.cells):,} cells to {out} (WGS-84)")
        return
    engine = engine_for(settings)
    with console.status("building the grid"):
        built = build_and_store(
            engine, cell_size_m=settings.cell_size_m, ceiling_m=settings.ceiling_m
        )
    console.print(
        f"[green]stored[/] {len(built.cells):,} cells of {built.grid.cell_size_m:g} m "
        f"({built.grid.crs.to_string()}), {built.grid.merged_slivers} slivers merged, "
        f"district {built.grid.district_area_m2 / 1e6:.1f} km²"
    )


@app.command("stats")
def stats(db: DbOption = None, data_dir: DataDirOption = None) -> None:
    """Cells and area per jurisdiction and priority class."""
    frame = grid_stats(engine_for(settings_for(db, data_dir)))
    console.print(stats_table(frame))


def stats_table(frame: pd.DataFrame) -> Table:
    """Cells per jurisdiction (rows) and class (columns), with totals."""
    pivot = frame.pivot_table(
        index="jurisdiction", columns="priority", values="cells", aggfunc="sum", fill_value=0
    )
    area = frame.groupby("jurisdiction")["area_km2"].sum()
    nofly = frame.groupby("jurisdiction")["no_fly_cells"].sum()
    classes = [c for c in ("core", "standard", "low") if c in pivot.columns]
    table = Table(title="Cells per jurisdiction and priority class")
    table.add_column("jurisdiction")
    for c in classes:
        table.add_column(c, justify="right")
    table.add_column("no-fly", justify="right")
    table.add_column("km²", justify="right")
    for jur in pivot.index:
        table.add_row(
            str(jur),
            *(f"{int(pivot.loc[jur, c]):,}" for c in classes),
            f"{int(nofly[jur]):,}",
            f"{area[jur]:.1f}",
        )
    table.add_row(
        "[bold]total",
        *(f"[bold]{int(pivot[c].sum()):,}" for c in classes),
        f"[bold]{int(nofly.sum()):,}",
        f"[bold]{area.sum():.1f}",
    )
    return table


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="Output file: .geojson or .gpkg.")],
    crs: Annotated[
        OutputCrs, typer.Option("--crs", help="wgs84 (RFC 7946) or gcj02 for Chinese web maps.")
    ] = OutputCrs.WGS84,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write the stored cells with their attributes."""
    cells = load_cells(engine_for(settings_for(db, data_dir)))
    if cells.empty:
        raise MissionsError("no grid in the database; run `nestpatrol grid build` first")
    write_cells(cells, out, crs=crs)
    console.print(f"[green]wrote[/] {len(cells):,} cells to {out} ({crs.value})")
