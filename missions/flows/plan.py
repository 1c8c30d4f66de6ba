"""Planning use cases on the database: the day's schedule, rapid response, reach, exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pyproj import CRS
from sqlalchemy import Engine

from missions.errors import GridError
from missions.export import ExportFormat, write_export
from missions.fleet import Nest
from missions.geo.layers import LayerKind
from missions.planning.cells import CellTable
from missions.planning.errors import PlanningError
from missions.planning.fleetplan import FleetPlan, base_plan, plan_fleet
from missions.planning.frame import MetricFrame
from missions.planning.nofly import NoFlyZone, zones_from_frame
from missions.planning.reach import ReachMap, reach_map, write_reach_png
from missions.planning.respond import RapidResponder, Response
from missions.planning.schedule import Policy, Schedule, ScheduleConfig, schedule_day
from missions.planning.schedule_io import ScheduleReport, report_for, write_schedule
from missions.planning.validate import validate_sortie
from missions.storage import load_cells, load_grid_info, load_layer, load_nests
from missions.storage.sorties import load_sortie, load_sorties, save_sorties

__all__ = ["DayPlan", "export_sortie", "light_plan", "plan_day", "reach", "respond"]


@dataclass(frozen=True)
class _Inputs:
    cells: CellTable
    nests: list[Nest]
    frame: MetricFrame
    zones: list[NoFlyZone]


@dataclass(frozen=True)
class DayPlan:
    plan: FleetPlan
    ours: Schedule
    baseline: Schedule
    report: ScheduleReport


def _inputs(engine: Engine) -> _Inputs:
    info = load_grid_info(engine)
    if info is None:
        raise GridError("no grid in the database; run `nestpatrol grid build` first")
    crs = CRS.from_epsg(info.crs_epsg)
    nests = load_nests(engine)
    if not nests:
        raise PlanningError("no nests in the database; load some (e.g. `nestpatrol init --demo`)")
    cells = CellTable.from_frame(load_cells(engine).to_crs(crs))
    zones = zones_from_frame(load_layer(engine, LayerKind.NOFLY), crs)
    return _Inputs(cells, nests, MetricFrame(crs), zones)


def plan_day(engine: Engine, *, start: datetime, hours: float, tz: ZoneInfo) -> DayPlan:
    """Plan the fleet, schedule ``hours`` from ``start`` (ours and the baseline), store ours."""
    if hours <= 0 or hours > 24 * 7:
        raise PlanningError(f"--hours must be in (0, 168], got {hours:g}")
    i = _inputs(engine)
    plan = plan_fleet(cells=i.cells, nests=i.nests, frame=i.frame, zones=i.zones, tz=tz)
    config = ScheduleConfig(start=start, horizon_s=hours * 3600.0)
    ours = schedule_day(plan, config=config)
    baseline = schedule_day(plan, config=config, policy=Policy.ROUND_ROBIN)
    save_sorties(engine, ours.sorties, [c.value for c in ours.classes])
    return DayPlan(plan, ours, baseline, report_for(plan, ours, baseline))


def write_day(day: DayPlan, out: Path) -> list[Path]:
    return write_schedule(out, day.plan, day.report)


def light_plan(engine: Engine, tz: ZoneInfo) -> FleetPlan:
    """Nests, zones and transit without sortie packing: enough for response and reach."""
    i = _inputs(engine)
    return base_plan(cells=i.cells, nests=i.nests, frame=i.frame, zones=i.zones, tz=tz)


def respond(engine: Engine, *, lon: float, lat: float, at: datetime, tz: ZoneInfo) -> Response:
    """Nearest available drone to (lon, lat) WGS-84, against the stored day's sorties."""
    responder = RapidResponder(light_plan(engine, tz), sorties=load_sorties(engine))
    return responder.respond(lon=lon, lat=lat, at=at)


def reach(engine: Engine, *, tz: ZoneInfo, png: Path | None = None) -> ReachMap:
    plan = light_plan(engine, tz)
    result = reach_map(plan)
    if png is not None:
        write_reach_png(png, plan, result)
    return result


def export_sortie(
    engine: Engine, *, sortie_id: str, fmt: ExportFormat, out: Path, tz: ZoneInfo
) -> Path:
    """Validate a stored sortie (no-fly, ceiling, energy, ends at its nest), then write it."""
    i = _inputs(engine)
    sortie = load_sortie(engine, sortie_id)
    nest = next((n for n in i.nests if n.nest_id == sortie.nest_id), None)
    if nest is None:
        raise PlanningError(f"sortie {sortie_id} belongs to unknown nest {sortie.nest_id!r}")
    validate_sortie(sortie, nest=nest, frame=i.frame, zones=i.zones, tz=tz)
    write_export(sortie, nest, fmt, out)
    return out
