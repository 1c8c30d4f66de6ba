from __future__ import annotations

import dataclasses
import math
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import shapely

from missions.fleet import BatteryMode, NestStatus
from missions.planning.errors import PlanningError
from missions.planning.fleetplan import FleetPlan, plan_fleet
from missions.planning.nofly import NoFlyZone
from missions.planning.reach import reach_map, write_reach_png
from missions.planning.respond import RapidResponder
from missions.planning.schedule import ScheduleConfig, schedule_day

from .conftest import FRAME, START, TZ, World


@pytest.fixture(scope="module")
def plan(world: World) -> FleetPlan:
    nests = [dataclasses.replace(n, battery_mode=BatteryMode.STANDBY) for n in world.nests]
    return plan_fleet(cells=world.cells, nests=nests, frame=FRAME, zones=world.zones, tz=TZ)


def _target(plan: FleetPlan, k: int) -> tuple[float, float]:
    lon, lat = FRAME.to_wgs84(plan.cells.centroids[k : k + 1])[0]
    return float(lon), float(lat)


def test_nearest_free_nest_answers_with_a_consistent_eta(plan: FleetPlan) -> None:
    rng = np.random.default_rng(2)
    responder = RapidResponder(plan)
    for k in rng.integers(0, len(plan.cells), 10).tolist():
        if responder.transit_at(START).inside(tuple(plan.cells.centroids[k])):
            continue
        lon, lat = _target(plan, k)
        r = responder.respond(lon=lon, lat=lat, at=START)
        assert r.best is not None
        nest = next(n for n in plan.nests if n.nest_id == r.best.nest_id)
        assert (
            r.best.eta_s
            >= nest.profile.launch_overhead_s
            + math.dist(plan.nests_xy[plan.nests.index(nest)], plan.cells.centroids[k])
            / nest.profile.max_speed_mps
            - 1e-6
        )
        assert r.best.needed_s <= r.best.available_s
        assert [o.eta_s for o in r.options] == sorted(o.eta_s for o in r.options)


def test_response_path_goes_around_an_active_zone(plan: FleetPlan) -> None:
    home = plan.nests_xy[0]
    wall = shapely.box(home[0] + 150, home[1] - 600, home[0] + 200, home[1] + 600)
    zone = NoFlyZone("wall", wall, active_from=START - timedelta(hours=1))
    world_plan = dataclasses.replace(plan, zones=[*plan.zones, zone])
    responder = RapidResponder(world_plan)
    lon, lat = FRAME.to_wgs84(np.array([[home[0] + 500, home[1]]]))[0]
    mine = plan.nests[0].nest_id
    late = responder.respond(lon=float(lon), lat=float(lat), at=START)
    early = responder.respond(lon=float(lon), lat=float(lat), at=START - timedelta(hours=3))
    for r in (late, early):
        for o in r.options:
            assert not shapely.intersects(shapely.LineString(o.path_xy), wall) or r is early
    detour = next(o for o in late.options if o.nest_id == mine)
    straight = next(o for o in early.options if o.nest_id == mine)
    # before the zone is active the same call flies straight
    assert straight.path_m == pytest.approx(500.0)
    assert detour.path_m > straight.path_m


def test_offline_nests_and_drones_in_the_air_do_not_answer(plan: FleetPlan) -> None:
    day = schedule_day(plan, config=ScheduleConfig(start=START, horizon_s=6 * 3600.0))
    flying = day.sorties[0]
    assert flying.planned_start is not None
    at = flying.planned_start + timedelta(seconds=60)
    responder = RapidResponder(plan, sorties=day.sorties)
    lon, lat = _target(plan, 0)
    r = responder.respond(lon=lon, lat=lat, at=at)
    assert all(o.nest_id != flying.nest_id for o in r.options)
    offline = dataclasses.replace(
        plan, nests=[dataclasses.replace(n, status=NestStatus.OFFLINE) for n in plan.nests]
    )
    none = RapidResponder(offline).respond(lon=lon, lat=lat, at=START)
    assert none.best is None
    assert "no available nest" in none.reason


def test_preempted_sorties_are_listed(plan: FleetPlan) -> None:
    day = schedule_day(plan, config=ScheduleConfig(start=START, horizon_s=6 * 3600.0))
    first = day.sorties[0]
    assert first.planned_start is not None
    at = first.planned_start - timedelta(seconds=30)
    lon, lat = _target(plan, 0)
    r = RapidResponder(plan, sorties=day.sorties).respond(lon=lon, lat=lat, at=at)
    hit = [o for o in r.options if o.nest_id == first.nest_id]
    assert hit
    assert first.sortie_id in hit[0].preempts


def test_naive_time_is_refused(plan: FleetPlan) -> None:
    with pytest.raises(PlanningError, match="timezone-aware"):
        RapidResponder(plan).respond(lon=113.0, lat=23.0, at=START.replace(tzinfo=None))


def test_reach_map_fractions_and_candidate(plan: FleetPlan, tmp_path: Path) -> None:
    reach = reach_map(plan, target_s=150.0)
    assert 0.0 <= reach.district_fraction <= 1.0
    reached = reach.eta_s <= 150.0
    share = plan.cells.area_m2[reached].sum() / plan.cells.area_m2.sum()
    assert reach.district_fraction == pytest.approx(share)
    if reach.candidate_xy is not None:
        assert reach.district_fraction_with_candidate >= reach.district_fraction
        assert reach.core_fraction_with_candidate >= reach.core_fraction
    out = write_reach_png(tmp_path / "reach.png", plan, reach)
    assert out.stat().st_size > 5_000
