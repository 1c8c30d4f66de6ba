"""From the grid package's output to a validated schedule: the path the CLI wires up."""

from __future__ import annotations

from datetime import UTC, datetime

import geopandas as gpd
import pandas as pd
import shapely

from missions.fleet import Nest
from missions.geo.layers import PriorityClass
from missions.grid import GridAttributes, assign_attributes, build_grid
from missions.planning.cells import CellTable
from missions.planning.fleetplan import FleetPlanConfig, plan_fleet
from missions.planning.frame import MetricFrame
from missions.planning.nofly import zones_from_frame
from missions.planning.schedule import ScheduleConfig, schedule_day
from missions.planning.validate import validate_sorties

from .conftest import TZ

LON0, LAT0 = 113.38, 22.95


def _nofly() -> gpd.GeoDataFrame:
    """Two zones as the reader delivers them: one permanent, one 09:00–11:00 local daily."""
    return gpd.GeoDataFrame(
        {
            "name": ["hospital", "event"],
            "floor_m": [None, 0.0],
            "ceiling_m": [None, 300.0],
            "active_from": pd.Series([pd.NaT, datetime(2026, 11, 1, tzinfo=UTC)]),
            "active_to": pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns, UTC]"),
            "daily_start": [None, "09:00"],
            "daily_end": [None, "11:00"],
        },
        geometry=[
            shapely.Point(LON0 + 0.008, LAT0 + 0.008).buffer(0.0015),
            shapely.Point(LON0 + 0.014, LAT0 + 0.004).buffer(0.001),
        ],
        crs=4326,
    )


def test_grid_cells_to_a_validated_schedule() -> None:
    boundary = shapely.box(LON0, LAT0, LON0 + 0.02, LAT0 + 0.016)
    core = gpd.GeoDataFrame(
        {"name": ["core"], "priority": ["core"]},
        geometry=[shapely.box(LON0, LAT0, LON0 + 0.006, LAT0 + 0.006)],
        crs=4326,
    )
    nofly = _nofly()
    grid = build_grid(boundary, cell_size_m=100.0)
    cells = assign_attributes(grid, GridAttributes(priority_areas=core, nofly=nofly))
    table = CellTable.from_frame(cells)
    assert len(table) == int((~cells["no_fly"]).sum())
    frame = MetricFrame(grid.crs)
    zones = zones_from_frame(nofly, grid.crs)
    assert [z.permanent for z in zones] == [True, False]
    nests = [Nest("A", LON0 + 0.004, LAT0 + 0.004), Nest("B", LON0 + 0.016, LAT0 + 0.012)]
    plan = plan_fleet(cells=table, nests=nests, frame=frame, zones=zones, tz=TZ)
    day = schedule_day(
        plan,
        config=ScheduleConfig(start=datetime(2026, 11, 24, 6, tzinfo=TZ), horizon_s=8 * 3600.0),
    )
    assert day.sorties
    validate_sorties(day.sorties, nests=nests, frame=frame, zones=zones, tz=TZ)
    event = zones[1]
    for s in day.sorties:
        assert s.planned_start is not None
        assert s.planned_end is not None
        if event.active_during(s.planned_start, s.planned_end, TZ):
            xy = frame.to_metric([w.lon for w in s.waypoints], [w.lat for w in s.waypoints])
            assert not shapely.intersects(shapely.LineString(xy), event.geometry)


def test_nests_fly_copies_of_each_others_core_templates() -> None:
    """Core next to nest A, nest B 2.6 km away: each may fly the other's core cells."""
    boundary = shapely.box(LON0, LAT0, LON0 + 0.05, LAT0 + 0.012)
    core = gpd.GeoDataFrame(
        {"name": ["core"], "priority": ["core"]},
        geometry=[shapely.box(LON0, LAT0, LON0 + 0.012, LAT0 + 0.012)],
        crs=4326,
    )
    grid = build_grid(boundary, cell_size_m=100.0)
    table = CellTable.from_frame(assign_attributes(grid, GridAttributes(priority_areas=core)))
    nests = [Nest("A", LON0 + 0.006, LAT0 + 0.006), Nest("B", LON0 + 0.035, LAT0 + 0.006)]
    frame = MetricFrame(grid.crs)
    plan = plan_fleet(cells=table, nests=nests, frame=frame, tz=TZ)
    unshared = plan_fleet(
        cells=table, nests=nests, frame=frame, tz=TZ, config=FleetPlanConfig(share_extra_m=0.0)
    )
    assert plan.shared_from == [len(p.sorties) for p in unshared.packings]
    assert any(plan.shared_from[i] < len(p.sorties) for i, p in enumerate(plan.packings))
    day = schedule_day(plan, config=ScheduleConfig(start=datetime(2026, 11, 24, 0, tzinfo=TZ)))
    validate_sorties(day.sorties, nests=nests, frame=frame, zones=[], tz=TZ)
    row = {c: i for i, c in enumerate(table.ids.tolist())}
    helped = [
        s
        for s, n, cls in zip(day.sorties, day.nest_index, day.classes, strict=True)
        if cls is PriorityClass.CORE and {int(plan.assignment[row[c]]) for c in s.cell_ids} != {n}
    ]
    assert helped  # some core flights flew cells another nest owns
    assert all(s.estimated_duration_s <= nests[0].profile.plannable_s for s in helped)
