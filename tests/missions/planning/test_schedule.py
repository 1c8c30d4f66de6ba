from __future__ import annotations

import itertools
import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from missions.geo.layers import PriorityClass
from missions.planning.errors import PlanningError
from missions.planning.fleetplan import FleetPlan, plan_fleet
from missions.planning.metrics import deadline_chain
from missions.planning.schedule import Policy, Schedule, ScheduleConfig, schedule_day
from missions.planning.schedule_io import report_for, write_schedule

from .conftest import FRAME, START, TZ, World


@pytest.fixture(scope="module")
def plan(world: World) -> FleetPlan:
    return plan_fleet(cells=world.cells, nests=world.nests, frame=FRAME, zones=world.zones, tz=TZ)


@pytest.fixture(scope="module")
def day(plan: FleetPlan) -> Schedule:
    return schedule_day(plan, config=ScheduleConfig(start=START))


@pytest.fixture(scope="module")
def baseline(plan: FleetPlan) -> Schedule:
    return schedule_day(plan, config=ScheduleConfig(start=START), policy=Policy.ROUND_ROBIN)


def test_templates_fit_the_battery_and_start_and_end_at_their_nest(plan: FleetPlan) -> None:
    for nest, pk in zip(plan.nests, plan.packings, strict=True):
        for s in pk.sorties:
            assert s.nest_id == nest.nest_id
            assert s.estimated_duration_s <= nest.profile.plannable_s
            assert (s.waypoints[0].lon, s.waypoints[0].lat) == pytest.approx((nest.lon, nest.lat))
            assert (s.waypoints[-1].lon, s.waypoints[-1].lat) == pytest.approx((nest.lon, nest.lat))


def test_every_reachable_cell_is_in_exactly_one_own_template(plan: FleetPlan) -> None:
    taken = np.concatenate(
        [
            plan.packings[i].cell_index[j]
            for i in range(len(plan.nests))
            for j in plan.own_templates(i)
        ]
    )
    assert len(taken) == len(np.unique(taken))
    assert len(taken) + len(plan.unplanned_cells) == len(plan.cells)


def test_shared_templates_copy_another_nests_core_template(plan: FleetPlan) -> None:
    own = {
        (i, frozenset(plan.packings[i].cell_index[j].tolist()))
        for i in range(len(plan.nests))
        for j in plan.own_templates(i)
        if plan.packings[i].classes[j] is PriorityClass.CORE
    }
    for i, pk in enumerate(plan.packings):
        for j in range(plan.shared_from[i], len(pk.sorties)):
            assert pk.classes[j] is PriorityClass.CORE
            cells = frozenset(pk.cell_index[j].tolist())
            assert any(o != i and c == cells for o, c in own), pk.sorties[j].sortie_id


def test_a_nest_never_flies_two_sorties_at_once_and_recharges_between(
    plan: FleetPlan, day: Schedule
) -> None:
    for i in range(len(plan.nests)):
        mine = sorted(
            (s for s, n in zip(day.sorties, day.nest_index, strict=True) if n == i),
            key=lambda s: s.planned_start or START,
        )
        for a, b in itertools.pairwise(mine):
            assert a.planned_end is not None
            assert b.planned_start is not None
            assert b.planned_start >= a.planned_end + timedelta(seconds=day.config.min_charge_s)


def test_daytime_only_classes_fly_in_daytime(day: Schedule) -> None:
    for s, cls in zip(day.sorties, day.classes, strict=True):
        if cls in day.config.daytime_only:
            assert s.planned_start is not None
            assert s.planned_end is not None
            start, end = s.planned_start.astimezone(TZ), s.planned_end.astimezone(TZ)
            assert day.config.daytime_start <= start.time()
            assert end.time() <= day.config.daytime_end
            assert start.date() == end.date()


def test_core_is_flown_around_the_clock(day: Schedule) -> None:
    night = [
        s
        for s, c in zip(day.sorties, day.classes, strict=True)
        if c is PriorityClass.CORE
        and s.planned_start is not None
        and s.planned_start.astimezone(TZ).hour < 6
    ]
    assert night


def test_priority_schedule_beats_the_round_robin_on_core(day: Schedule, baseline: Schedule) -> None:
    ours, naive = day.metrics[PriorityClass.CORE], baseline.metrics[PriorityClass.CORE]
    assert ours.fraction_met >= naive.fraction_met


def test_writer_produces_json_geojson_and_png(
    plan: FleetPlan, day: Schedule, baseline: Schedule, tmp_path: Path
) -> None:
    paths = write_schedule(tmp_path, plan, report_for(plan, day, baseline))
    doc = json.loads(paths[0].read_text())
    bound = doc["metrics"]["capacity_bound"]
    # the planned sorties carry transits and turns: they can never beat the ideal fleet rate
    assert 0 < bound["demand_over_ideal_capacity"] <= bound["demand_over_planned_capacity"]
    assert sum(len(n["sorties"]) for n in doc["nests"]) == len(day.sorties)
    geo = json.loads(paths[1].read_text())
    assert len(geo["features"]) == len(day.sorties)
    assert {"nest_id", "start", "end", "duration_s"} <= set(geo["features"][0]["properties"])
    assert paths[2].stat().st_size > 10_000


def test_naive_start_time_is_refused(plan: FleetPlan) -> None:
    with pytest.raises(PlanningError, match="timezone-aware"):
        schedule_day(plan, config=ScheduleConfig(start=START.replace(tzinfo=None)))


@pytest.mark.parametrize(
    ("visits", "expected"),
    [([], (3, 0)), ([50.0, 150.0, 250.0], (3, 3)), ([150.0], (2, 0)), ([40.0, 120.0], (3, 2))],
)
def test_deadline_chain_counts(visits: list[float], expected: tuple[int, int]) -> None:
    # last seen at -50 s, target 100 s, horizon 300 s: deadlines 50, 150, 250 if all are met;
    # a late visit restarts the chain from itself
    required, met, worst = deadline_chain(-50.0, visits, 100.0, 300.0)
    assert (required, met) == expected
    assert worst == max(np.diff([-50.0, *visits, 300.0]))
