"""`nestpatrol coverage ingest|stats|map`: what was actually imaged, per cell."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import pandas as pd
import typer
from rich.table import Table

from api.cli.common import DataDirOption, DbOption, console, engine_for, settings_for
from missions.storage import load_nests
from patrol.coverage import longest_unseen, summarize
from patrol.coverage.flows import current_coverage
from patrol.coverage.ingest import read_footprints
from patrol.coverage.maps import write_coverage_map
from patrol.errors import PatrolError
from patrol.storage import record_flight

app = typer.Typer(
    help="Coverage from imaged frames: last seen, revisit gaps, maps.", no_args_is_help=True
)

AtOption = Annotated[
    str | None,
    typer.Option("--at", help="Time of the view, ISO-8601 (default: now).", show_default=False),
]
WindowOption = Annotated[float, typer.Option("--window-hours", help="Window for counts and gaps.")]


def _at(text: str | None, tz: ZoneInfo) -> datetime:
    if text is None:
        return datetime.now(tz)
    try:
        when = datetime.fromisoformat(text)
    except ValueError as e:
        raise PatrolError(
            f"--at {text!r} is not an ISO-8601 time (e.g. 2026-11-23T18:00+08:00)"
        ) from e
    return when if when.tzinfo else when.replace(tzinfo=tz)


@app.command("ingest")
def ingest(
    file: Annotated[
        Path, typer.Argument(help="Frame footprints: polygons with flight_id, taken_at.")
    ],
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Record flights from a file of frame footprints and derive the cells they imaged."""
    settings = settings_for(db, data_dir)
    engine = engine_for(settings)
    flights = read_footprints(file, tz=settings.tz)
    total = 0
    for flight, frames in flights:
        total += record_flight(engine, flight, frames)
    console.print(
        f"[green]recorded[/] {len(flights)} flight(s), "
        f"{sum(len(f) for _, f in flights)} frames, {total:,} cell sightings"
    )


def _hours(value: float) -> str:
    return "never" if math.isnan(value) else f"{value:.1f}"


def _table(title: str, frame: pd.DataFrame, key: str) -> Table:
    table = Table(title=title)
    for col in (
        key,
        "cells",
        "seen in window",
        "within target",
        "worst gap (h)",
        "median h since seen",
    ):
        table.add_column(col, justify="left" if col == key else "right")
    for rec in frame.to_dict(orient="records"):
        table.add_row(
            str(rec[key]),
            f"{rec['cells']:,}",
            f"{rec['seen_in_window']:,}",
            f"{rec['within_target']:.1%}",
            f"{rec['worst_gap_h']:.1f}",
            _hours(float(rec["median_hours_since_seen"])),
        )
    return table


@app.command("stats")
def stats(
    at: AtOption = None,
    window_hours: WindowOption = 24.0,
    longest: Annotated[
        int, typer.Option("--longest", help="How many longest-unseen cells to list.")
    ] = 10,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Fraction of cells within their revisit target, worst gaps, longest-unseen cells."""
    settings = settings_for(db, data_dir)
    view = current_coverage(
        engine_for(settings), at=_at(at, settings.tz), window_hours=window_hours
    )
    console.print(
        f"coverage at {view.at.isoformat()} over {window_hours:g} h "
        f"({view.sightings:,} sightings stored)"
    )
    console.print(_table("By priority class", summarize(view.state, "priority"), "priority"))
    console.print(_table("By jurisdiction", summarize(view.state, "jurisdiction"), "jurisdiction"))
    unseen = longest_unseen(view.state, longest)
    table = Table(title=f"Longest unseen {len(unseen)} cells")
    for col in unseen.columns:
        table.add_column(col)
    for row in unseen.itertuples(index=False):
        table.add_row(
            *(
                "never" if pd.isna(v) else f"{v:.1f}" if isinstance(v, float) else str(v)
                for v in row
            )
        )
    console.print(table)


@app.command("map")
def coverage_map(
    out: Annotated[Path, typer.Option("--out", help="Output: .png, .geojson or .tif (GeoTIFF).")],
    at: AtOption = None,
    window_hours: WindowOption = 24.0,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Map of hours since each cell was last seen."""
    settings = settings_for(db, data_dir)
    engine = engine_for(settings)
    view = current_coverage(engine, at=_at(at, settings.tz), window_hours=window_hours)
    fmt = write_coverage_map(
        view.state, out, cell_size_m=view.cell_size_m, at=view.at, nests=load_nests(engine)
    )
    console.print(f"[green]wrote[/] {out} ({fmt.name})")
