from __future__ import annotations

import dataclasses
from datetime import timedelta

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from missions.planning.errors import SafetyRule, SafetyViolation
from missions.planning.fleetplan import plan_fleet
from missions.planning.nofly import NoFlyZone
from missions.planning.schedule import ScheduleConfig, schedule_day
from missions.planning.sortie import Sortie, Waypoint, WaypointAction
from missions.planning.validate import validate_sortie, validate_sorties

from .conftest import FRAME, START, TZ, World, make_world


def _sortie(world: World, points_xy: list[tuple[float, float]], alt_m: float = 100.0) -> Sortie:
    nest = world.nests[0]
    home = FRAME.point(nest.lon, nest.lat)
    xy = np.array([home, *points_xy, home])
    lonlat = FRAME.to_wgs84(xy)
    actions = [
        WaypointAction.TAKEOFF,
        *[WaypointAction.TRANSIT] * len(points_xy),
        WaypointAction.LAND,
    ]
    wps = [
        Waypoint(float(lo), float(la), 0.0 if a is WaypointAction.LAND else alt_m, 12.0, a)
        for (lo, la), a in zip(lonlat, actions, strict=True)
    ]
    return Sortie("S1", nest.nest_id, wps, estimated_duration_s=600.0, planned_start=START)


def _home(world: World) -> tuple[float, float]:
    return FRAME.point(world.nests[0].lon, world.nests[0].lat)


def _check(world: World, sortie: Sortie, zones: list[NoFlyZone] | None = None) -> None:
    validate_sortie(sortie, nest=world.nests[0], frame=FRAME, zones=zones or [], tz=TZ)


def test_a_square_loop_passes(world: World) -> None:
    x, y = _home(world)
    _check(world, _sortie(world, [(x + 500, y), (x + 500, y + 500)]))


def test_leg_through_a_zone_names_sortie_waypoint_and_rule(world: World) -> None:
    x, y = _home(world)
    zone = NoFlyZone("tower", shapely.box(x + 200, y - 50, x + 300, y + 50))
    with pytest.raises(SafetyViolation) as err:
        _check(world, _sortie(world, [(x + 500, y), (x + 500, y + 500)]), [zone])
    assert err.value.rule is SafetyRule.NOFLY_LEG
    assert err.value.waypoint_index == 1
    assert "S1" in str(err.value)
    assert "waypoint 1" in str(err.value)


def test_waypoint_inside_a_zone(world: World) -> None:
    x, y = _home(world)
    zone = NoFlyZone("tower", shapely.Point(x + 800, y + 800).buffer(50))
    sortie = _sortie(world, [(x + 800, y + 800)])
    with pytest.raises(SafetyViolation) as err:
        _check(world, sortie, [NoFlyZone("far", shapely.Point(x + 5000, y).buffer(10)), zone])
    assert err.value.rule in (SafetyRule.NOFLY_WAYPOINT, SafetyRule.NOFLY_LEG)


def test_zone_inactive_at_the_planned_time_or_above_the_flight_is_ignored(world: World) -> None:
    x, y = _home(world)
    sortie = _sortie(world, [(x + 500, y), (x + 500, y + 500)])
    box = shapely.box(x + 200, y - 50, x + 300, y + 50)
    later = NoFlyZone("later", box, active_from=START + timedelta(hours=5))
    high = NoFlyZone("high", box, floor_m=300.0)
    _check(world, sortie, [later, high])


def test_altitude_above_the_ceiling(world: World) -> None:
    x, y = _home(world)
    with pytest.raises(SafetyViolation) as err:
        _check(world, _sortie(world, [(x + 300, y)], alt_m=130.0))
    assert err.value.rule is SafetyRule.ALTITUDE_CEILING
    assert err.value.waypoint_index == 0


def test_too_long_for_the_battery(world: World) -> None:
    x, y = _home(world)
    far = [(x + 9000, y), (x + 9000, y + 9000), (x, y + 9000)]
    with pytest.raises(SafetyViolation) as err:
        _check(world, _sortie(world, far))
    assert err.value.rule is SafetyRule.ENERGY


def test_must_end_with_a_landing_at_the_nest(world: World) -> None:
    x, y = _home(world)
    sortie = _sortie(world, [(x + 300, y)])
    away = dataclasses.replace(sortie.waypoints[-1], lon=sortie.waypoints[1].lon)
    bad = dataclasses.replace(sortie, waypoints=[*sortie.waypoints[:-1], away])
    with pytest.raises(SafetyViolation) as err:
        _check(world, bad)
    assert err.value.rule is SafetyRule.END_AT_NEST
    assert err.value.waypoint_index == len(bad.waypoints) - 1


def test_must_start_at_the_nest(world: World) -> None:
    x, y = _home(world)
    sortie = _sortie(world, [(x + 300, y)])
    bad = dataclasses.replace(sortie, waypoints=sortie.waypoints[1:])
    with pytest.raises(SafetyViolation) as err:
        _check(world, bad)
    assert err.value.rule is SafetyRule.START_AT_NEST


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking whole plans takes minutes
)
@given(
    seed=st.integers(0, 100_000),
    n_cells=st.integers(80, 260),
    n_nests=st.integers(1, 3),
    n_zones=st.integers(0, 3),
)
def test_the_planner_never_emits_a_violating_sortie(
    seed: int, n_cells: int, n_nests: int, n_zones: int
) -> None:
    w = make_world(seed, n_cells=n_cells, n_nests=n_nests, n_zones=n_zones)
    plan = plan_fleet(cells=w.cells, nests=w.nests, frame=FRAME, zones=w.zones, tz=TZ)
    templates = [s for p in plan.packings for s in p.sorties]
    # templates (no start time yet) avoid the permanent zones; windowed ones are checked per start
    permanent = [z for z in w.zones if z.permanent]
    validate_sorties(templates, nests=w.nests, frame=FRAME, zones=permanent, tz=TZ)
    day = schedule_day(plan, config=ScheduleConfig(start=START, horizon_s=12 * 3600.0))
    validate_sorties(day.sorties, nests=w.nests, frame=FRAME, zones=w.zones, tz=TZ)
    assert all(s.planned_start is not None for s in day.sorties)
