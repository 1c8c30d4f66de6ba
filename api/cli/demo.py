"""`nestpatrol init [--demo]` and `nestpatrol demo`."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import DataDirOption, DbOption, console, engine_for, settings_for
from api.cli.demo_users import ensure_demo_users
from api.cli.grid import stats_table
from api.cli.plan import capacity_line, metrics_table, reach_line
from api.cli.server import serve
from api.cli.sim import simulate
from missions.flows.demo import DemoSetup, init_demo
from missions.flows.grid import grid_stats
from missions.flows.plan import DayPlan, plan_day, reach, write_day
from missions.maps import render_grid_map
from missions.settings import Settings
from missions.storage import upgrade
from missions.storage.engine import head_revision
from patrol.errors import PatrolError
from patrol.sim.world import Fidelity

DEMO_HOURS = 24.0


def init(
    demo: Annotated[
        bool, typer.Option("--demo", help="Also load the demo district, grid and nests.")
    ] = False,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create or upgrade the database schema (idempotent)."""
    settings = settings_for(db, data_dir)
    engine = engine_for(settings, require=False)
    upgrade(engine)
    console.print(f"[green]database ready[/] at {settings.db_url} (schema {head_revision()})")
    if demo:
        setup = _init_demo(settings)
        console.print(
            f"[green]demo district loaded[/]: {len(setup.built.cells):,} cells, "
            f"{len(setup.district.jurisdictions)} illustrative jurisdictions, "
            f"{len(setup.nests)} nests"
        )


def _init_demo(settings: Settings) -> DemoSetup:
    engine = engine_for(settings, require=False)
    with console.status("loading the demo district and building its grid"):
        return init_demo(engine, cell_size_m=settings.cell_size_m, ceiling_m=settings.ceiling_m)


def demo(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Where to write the demo outputs [default: <data dir>/demo].",
            show_default=False,
        ),
    ] = None,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Stop after the report (for scripts and tests).")
    ] = False,
    sim_hours: Annotated[
        float,
        typer.Option(
            "--sim-hours",
            help="Hours of the planned day to fly in the simulator, detect and score (0: skip).",
        ),
    ] = DEMO_HOURS,  # at most the planned day
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Set up the demo district, plan, fly, detect and report, then serve the web map (dev)."""
    settings = settings_for(db, data_dir)
    out_dir = out or settings.data_dir / "demo"
    console.rule("[bold]NestPatrol demo: Panyu District (boundary real, other layers illustrative)")
    setup = _init_demo(settings)
    grid = setup.built.grid
    console.print(
        f"database: {settings.db_url}\n"
        f"grid: {len(setup.built.cells):,} cells of {grid.cell_size_m:g} m over "
        f"{grid.district_area_m2 / 1e6:.1f} km² ({grid.crs.to_string()}), "
        f"{grid.merged_slivers} slivers merged"
    )
    console.print(stats_table(grid_stats(engine_for(settings))))
    png = render_grid_map(
        setup.built.cells,
        out_dir / "district_map.png",
        cell_size_m=grid.cell_size_m,
        title="Panyu District demo: cells by priority class, nests, no-fly zones\n"
        "(boundary real; jurisdictions, areas, zones and nests illustrative)",
        nests=setup.nests,
        nofly=setup.district.nofly,
        jurisdictions=setup.district.jurisdictions,
    )
    console.print(f"[green]map[/] {png}")
    if not 0 <= sim_hours <= DEMO_HOURS:
        raise PatrolError(f"--sim-hours {sim_hours:g} is outside 0..{DEMO_HOURS:g} (the plan)")
    day = _plan_demo(settings, out_dir)
    if sim_hours > 0:
        console.rule(f"[bold]Simulated patrol: {sim_hours:g} h flown, detected and scored")
        simulate(
            settings,
            out=out_dir / "sim",
            hours=sim_hours,
            start=day.ours.config.start,
            seed=0,
            fidelity=Fidelity(),
            rapid=6,
            day=day,
            earlier_clues="warn",  # a re-run demo scores on top of its last run; it says so
        )
    users = ensure_demo_users(engine_for(settings), out_dir / "demo-users.json")
    table = Table(title="Demo users (local trial; passwords in demo-users.json)")
    table.add_column("user")
    table.add_column("password")
    for name, password in users.items():
        table.add_row(name, password)
    console.print(table)
    if no_serve:
        return
    serve(dev=True, host=None, port=None, db=db, data_dir=data_dir)


def _plan_demo(settings: Settings, out_dir: Path) -> DayPlan:
    """Plan the next 24 h for the demo fleet; print ours vs baseline vs capacity, and reach."""
    engine = engine_for(settings)
    start = datetime.now(settings.tz).replace(minute=0, second=0, microsecond=0) + timedelta(
        hours=1
    )
    console.rule("[bold]24 h patrol plan")
    with console.status("planning the fleet and scheduling 24 h"):
        day = plan_day(engine, start=start, hours=DEMO_HOURS, tz=settings.tz)
    write_day(day, out_dir / "plan")
    console.print(metrics_table(day))
    console.print(capacity_line(day))
    with console.status("computing the 5-minute reach"):
        result = reach(engine, tz=settings.tz, png=out_dir / "reach.png")
    console.print(reach_line(result))
    console.print(f"[green]plan[/] {out_dir / 'plan'} (schedule.json, sorties.geojson, PNG)")
    return day
