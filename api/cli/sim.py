"""`nestpatrol sim run`: a simulated day of patrol, measured against ground truth."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

import typer

from api.cli.common import DataDirOption, DbOption, console, engine_for, settings_for
from api.simday.flow import SimConfig, run_day
from api.simday.report import print_report, report_dict, write_report
from missions.flows.demo import init_demo
from missions.flows.plan import DayPlan
from missions.settings import Settings
from missions.storage import load_grid_info, upgrade
from patrol.errors import PatrolError
from patrol.sim.world import Fidelity

app = typer.Typer(help="The simulated district: fly a day, detect, score.", no_args_is_help=True)


def _start(text: str | None, settings: Settings) -> datetime:
    if text is None:
        now = datetime.now(settings.tz)
        return now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    try:
        when = datetime.fromisoformat(text)
    except ValueError as e:
        raise PatrolError(f"--start {text!r} is not ISO-8601 (e.g. 2026-11-24T00:00+08:00)") from e
    return when if when.tzinfo else when.replace(tzinfo=settings.tz)


def simulate(
    settings: Settings,
    *,
    out: Path,
    hours: float,
    start: datetime,
    seed: int,
    fidelity: Fidelity,
    rapid: int,
    day: DayPlan | None = None,
    earlier_clues: Literal["refuse", "warn"] = "refuse",
) -> dict[str, object]:
    """Run a day (setting up the demo district first if the database has no grid)."""
    engine = engine_for(settings, require=False)
    upgrade(engine)
    if load_grid_info(engine) is None:
        with console.status("no grid in the database: loading the demo district"):
            init_demo(engine, cell_size_m=settings.cell_size_m, ceiling_m=settings.ceiling_m)
    config = SimConfig(
        start=start,
        hours=hours,
        seed=seed,
        fidelity=fidelity,
        rapid_requests=rapid,
        earlier_clues=earlier_clues,
    )
    with console.status("simulating") as status:

        def progress(message: str) -> None:
            if message.startswith("warning"):
                console.print(f"[yellow]{message}[/]")
            else:
                status.update(message)

        result = run_day(settings, config, progress=progress, day=day)
    report = report_dict(result)
    path = write_report(result, out)
    print_report(console, report)
    console.print(f"[green]report[/] {path}")
    return report


@app.command("run")
def run(
    out: Annotated[Path, typer.Option("--out", help="Directory for report.json.")] = Path(
        "sim-report"
    ),
    hours: Annotated[float, typer.Option("--hours", help="Simulated hours (≤ 168).")] = 24.0,
    start: Annotated[
        str | None,
        typer.Option(
            "--start", help="Start, ISO-8601 (default: next local midnight).", show_default=False
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="World and request seed.")] = 0,
    gsd: Annotated[float, typer.Option("--render-gsd", help="Render GSD, m/px.")] = 0.07,
    core_blocks: Annotated[int, typer.Option("--core-blocks", help="Simulated core blocks.")] = 12,
    standard_blocks: Annotated[int, typer.Option("--standard-blocks")] = 8,
    low_blocks: Annotated[int, typer.Option("--low-blocks")] = 4,
    rapid: Annotated[int, typer.Option("--rapid", help="Rapid-response requests in the day.")] = 6,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Plan, fly (simulated nests over MAVLink), detect, cluster, open tickets and score."""
    if not 0 < hours <= 168:
        raise PatrolError(f"--hours {hours:g} is outside (0, 168]; simulate at most a week")
    settings = settings_for(db, data_dir)
    fidelity = Fidelity(
        render_gsd_m=gsd,
        blocks={"core": core_blocks, "standard": standard_blocks, "low": low_blocks},
    )
    simulate(
        settings,
        out=out,
        hours=hours,
        start=_start(start, settings),
        seed=seed,
        fidelity=fidelity,
        rapid=rapid,
    )
