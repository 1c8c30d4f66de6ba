"""`nestpatrol plan schedule|respond|reach-map|export`."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from api.cli.common import DataDirOption, DbOption, console, engine_for, settings_for
from missions.errors import MissionsError
from missions.export import ExportFormat
from missions.flows.plan import DayPlan, export_sortie, plan_day, reach, respond, write_day
from missions.geo.crs import gcj02_to_wgs84
from missions.planning.reach import ReachMap

app = typer.Typer(
    help="Plan patrols: the day's schedule, rapid response, reach, exports.", no_args_is_help=True
)


class PointCrs(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"


def _time(text: str | None, tz: ZoneInfo, *, default_next_hour: bool = False) -> datetime:
    if text is None:
        now = datetime.now(tz)
        return (
            now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            if default_next_hour
            else now
        )
    try:
        when = datetime.fromisoformat(text)
    except ValueError as e:
        raise MissionsError(
            f"{text!r} is not an ISO-8601 time (e.g. 2026-11-24T06:00+08:00)"
        ) from e
    return when if when.tzinfo else when.replace(tzinfo=tz)


def metrics_table(day: DayPlan) -> Table:
    """Per class: required visits met, worst gap — ours vs the naive baseline."""
    table = Table(title="24 h schedule: ours vs naive round-robin baseline")
    for col in (
        "class",
        "cells",
        "required visits",
        "met (ours)",
        "met (baseline)",
        "worst gap h (ours)",
        "worst gap h (baseline)",
    ):
        table.add_column(col, justify="left" if col == "class" else "right")
    for row in day.report.table():
        table.add_row(
            row["class"],
            f"{row['cells']:,}",
            f"{row['required_visits']:,}",
            f"{row['met_fraction']:.1%}",
            f"{row['baseline_met_fraction']:.1%}",
            f"{row['worst_gap_s'] / 3600:.1f}",
            f"{row['baseline_worst_gap_s'] / 3600:.1f}",
        )
    return table


def capacity_line(day: DayPlan) -> str:
    b = day.report.bound
    verdict = "feasible" if b.planned_ratio <= 1 else f"infeasible by {b.planned_ratio:.2f}×"
    return (
        f"capacity bound: targets demand {b.demand_m2_per_s:,.0f} m²/s; the fleet images "
        f"{b.fleet_m2_per_s:,.0f} m²/s ideally, {b.planned_fleet_m2_per_s:,.0f} m²/s with the "
        f"planned sorties' transits and turns → demand/ideal {b.ratio:.2f}, "
        f"demand/planned {b.planned_ratio:.2f} ({verdict}); "
        f"{len(day.ours.sorties)} sorties, {day.ours.flight_hours:.1f} flight hours, "
        f"{len(day.plan.unplanned_cells)} cells unplannable"
    )


@app.command("schedule")
def schedule(
    out: Annotated[
        Path,
        typer.Option("--out", help="Directory for schedule.json, sorties.geojson and the PNG."),
    ],
    hours: Annotated[float, typer.Option("--hours", help="Planning horizon.")] = 24.0,
    start: Annotated[
        str | None,
        typer.Option(
            "--start", help="ISO-8601 start [default: next full hour].", show_default=False
        ),
    ] = None,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Plan all nests for a day: sorties that keep cells within their revisit targets."""
    settings = settings_for(db, data_dir)
    engine = engine_for(settings)
    with console.status("planning the fleet and scheduling the day"):
        day = plan_day(
            engine,
            start=_time(start, settings.tz, default_next_hour=True),
            hours=hours,
            tz=settings.tz,
        )
    paths = write_day(day, out)
    console.print(metrics_table(day))
    console.print(capacity_line(day))
    console.print("[green]wrote[/] " + ", ".join(str(p) for p in paths))


@app.command("respond")
def respond_cmd(
    lat: Annotated[float, typer.Option("--lat", help="Latitude of the reported point.")],
    lon: Annotated[float, typer.Option("--lon", help="Longitude of the reported point.")],
    crs: Annotated[
        PointCrs, typer.Option("--crs", help="wgs84, or gcj02 for points from Chinese web maps.")
    ] = PointCrs.WGS84,
    at: Annotated[
        str | None,
        typer.Option("--at", help="ISO-8601 time of the call [default: now].", show_default=False),
    ] = None,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Send the nearest drone: which nest arrives first, its ETA and what it pre-empts."""
    settings = settings_for(db, data_dir)
    if crs is PointCrs.GCJ02:
        x, y = gcj02_to_wgs84(lon, lat)
        lon, lat = float(x), float(y)
    answer = respond(
        engine_for(settings), lon=lon, lat=lat, at=_time(at, settings.tz), tz=settings.tz
    )
    if answer.best is None:
        raise MissionsError(f"no drone can reach ({lon:.6f}, {lat:.6f}): {answer.reason}")
    best = answer.best
    console.print(
        f"[bold]{best.nest_id}[/] arrives in [bold]{best.eta_s:.0f} s[/] "
        f"({best.path_m:,.0f} m flown; battery needs {best.needed_s:.0f} s "
        f"of {best.available_s:.0f} s)"
    )
    console.print(
        "pre-empts: " + (", ".join(best.preempts) if best.preempts else "nothing scheduled")
    )
    if len(answer.options) > 1:
        others = ", ".join(f"{o.nest_id} {o.eta_s:.0f} s" for o in answer.options[1:4])
        console.print(f"next: {others}")


@app.command("reach-map")
def reach_map_cmd(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="PNG map [default: <data dir>/reach.png].", show_default=False),
    ] = None,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Share of district and core reachable within 300 s; where one more nest helps most."""
    settings = settings_for(db, data_dir)
    png = out or settings.data_dir / "reach.png"
    with console.status("computing the 5-minute reach"):
        result = reach(engine_for(settings), tz=settings.tz, png=png)
    console.print(reach_line(result))
    console.print(f"[green]map[/] {png}")


def reach_line(r: ReachMap) -> str:
    text = (
        f"5-minute reach: {r.district_fraction:.1%} of the district, "
        f"{r.core_fraction:.1%} of the core area"
    )
    if r.candidate_lonlat is not None:
        lon, lat = r.candidate_lonlat
        text += (
            f"; one more nest at ({lon:.5f}, {lat:.5f}) would give "
            f"{r.district_fraction_with_candidate:.1%} / {r.core_fraction_with_candidate:.1%}"
        )
    return text


@app.command("export")
def export(
    sortie: Annotated[str, typer.Argument(help="Sortie id (see sorties.geojson).")],
    fmt: Annotated[
        ExportFormat,
        typer.Option("--format", help="wpl (QGC WPL 110), plan (QGC), kmz (DJI WPML), geojson."),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output file.")],
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Validate a planned sortie (flight-safety rules) and export it for a vehicle or a GIS."""
    settings = settings_for(db, data_dir)
    path = export_sortie(engine_for(settings), sortie_id=sortie, fmt=fmt, out=out, tz=settings.tz)
    console.print(f"[green]validated and wrote[/] {path}")
