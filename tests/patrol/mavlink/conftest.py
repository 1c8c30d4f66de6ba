"""A small, hand-checkable sortie from a nest in Panyu: take off, transit, one survey strip with a
loiter, transit back, land."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from missions.fleet.profiles import Nest
from missions.planning.sortie import Sortie, Waypoint, WaypointAction

NEST_LON, NEST_LAT, NEST_ELEV_M = 113.3841234, 22.9371234, 12.5


@pytest.fixture
def nest() -> Nest:
    return Nest(nest_id="nest-07", lon=NEST_LON, lat=NEST_LAT, ground_elevation_m=NEST_ELEV_M)


@pytest.fixture
def sortie() -> Sortie:
    a = WaypointAction
    wps = [
        Waypoint(NEST_LON, NEST_LAT, 60.0, 12.0, a.TAKEOFF),
        Waypoint(113.3901111, 22.9402222, 100.0, 12.0, a.TRANSIT),
        Waypoint(113.3912345, 22.9412345, 100.0, 10.0, a.SURVEY_START, trigger_spacing_m=41.5),
        Waypoint(113.3962345, 22.9412345, 100.0, 10.0, a.SURVEY),
        Waypoint(113.3962345, 22.9422345, 100.0, 10.0, a.SURVEY),
        Waypoint(113.3912345, 22.9422345, 100.0, 14.0, a.SURVEY_END),
        Waypoint(113.3900001, 22.9400001, 90.0, 14.0, a.LOITER),
        Waypoint(NEST_LON, NEST_LAT, 60.0, 5.0, a.TRANSIT),
        Waypoint(NEST_LON, NEST_LAT, 0.0, 2.0, a.LAND),
    ]
    return Sortie(
        sortie_id="s-0001",
        nest_id="nest-07",
        waypoints=wps,
        cell_ids=["c1", "c2", "c3"],
        estimated_duration_s=612.0,
        planned_start=datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
    )
