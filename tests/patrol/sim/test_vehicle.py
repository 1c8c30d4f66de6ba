"""The pure vehicle model: a planner sortie flies in the planner's time and battery, captures at
the trigger spacing, and the faults (low battery, link loss, wind, recall) end where they must:
on the ground at the nest."""

from __future__ import annotations

import itertools
import math

import pytest

from missions.export import mission_items
from missions.fleet.profiles import Nest
from missions.planning.camera import patrol_survey
from missions.planning.sortie import Sortie, WaypointAction
from patrol.mavlink import to_item_int
from patrol.sim.vehicle import (
    FrameCaptured,
    ItemReached,
    Landed,
    Notice,
    Phase,
    ReturnReason,
    SimError,
    SimVehicle,
    VehicleEvent,
)

T0 = 1_790_000_000.0


def _vehicle(nest: Nest, sortie: Sortie, battery: float = 1.0) -> SimVehicle:
    v = SimVehicle(nest, clock_s=T0, battery=battery)
    v.load_mission([to_item_int(i) for i in mission_items(sortie, nest)])
    return v


def _fly(v: SimVehicle, step_s: float = 2.0, limit_s: float = 10_000.0) -> list[VehicleEvent]:
    assert v.start_mission() is None
    events: list[VehicleEvent] = []
    while v.flying and v.clock_s - T0 < limit_s:
        events += v.advance(step_s)
    assert not v.flying
    return events


def _metres(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    k = math.radians(1.0) * 6_371_008.8
    return math.hypot((lon1 - lon0) * k * math.cos(math.radians(lat0)), (lat1 - lat0) * k)


def test_planner_sortie_takes_the_planners_time_and_battery(
    survey_nest: Nest, survey_sortie: Sortie
) -> None:
    v = _vehicle(survey_nest, survey_sortie)
    events = _fly(v)
    est = survey_sortie.estimated_duration_s
    assert v.clock_s - T0 == pytest.approx(est, rel=0.01)
    used = 1.0 - v.battery
    assert used == pytest.approx(est / survey_nest.profile.rated_endurance_s, rel=0.02)
    assert v.battery >= survey_nest.profile.reserve_fraction
    assert isinstance(events[-1], Landed)
    assert _metres(v.lat, v.lon, survey_nest.lat, survey_nest.lon) < 0.01
    reached = [e for e in events if isinstance(e, ItemReached)]
    items = mission_items(survey_sortie, survey_nest)
    nav = [i.seq for i in items if i.seq > 0 and int(i.command) in (16, 21, 22)]
    assert [e.seq for e in reached] == nav
    for e in reached:  # each waypoint reached where it is
        item = items[e.seq]
        if int(item.command) == 16:
            assert _metres(e.lat, e.lon, item.lat_deg, item.lon_deg) < 0.01


@pytest.mark.parametrize("step_s", [0.7, 2.0, 13.0])
def test_captures_every_trigger_spacing_along_each_line(
    survey_nest: Nest, survey_sortie: Sortie, step_s: float
) -> None:
    """Spacing holds whatever the caller's step (the camera is placed by distance, not ticks)."""
    spacing = patrol_survey(survey_nest.profile.camera).trigger_spacing_m
    events = _fly(_vehicle(survey_nest, survey_sortie), step_s=step_s)
    frames = [e for e in events if isinstance(e, FrameCaptured)]
    starts = [w for w in survey_sortie.waypoints if w.action is WaypointAction.SURVEY_START]
    assert len(frames) >= len(starts) * 9  # 1 km lines at ≈101 m: 10 frames each
    assert [f.index for f in frames] == list(range(len(frames)))
    gaps = [
        _metres(a.lat, a.lon, b.lat, b.lon)
        for a, b in itertools.pairwise(frames)
        if abs(a.heading_deg - b.heading_deg) < 1.0
    ]
    assert gaps
    assert all(g == pytest.approx(spacing, rel=0.10) for g in gaps)
    for w in starts:  # the first frame of a line is on its start (DO_SET_CAM_TRIGG_DIST p3 = 1)
        assert min(_metres(f.lat, f.lon, w.lat, w.lon) for f in frames) < 0.5
    assert {round(f.alt_m) for f in frames} == {120}


def test_recall_returns_home_early(survey_nest: Nest, survey_sortie: Sortie) -> None:
    v = _vehicle(survey_nest, survey_sortie)
    assert v.start_mission() is None
    v.advance(300.0)
    events = v.return_home(ReturnReason.RECALL)
    assert isinstance(events[0], Notice)
    assert v.phase is Phase.RETURNING
    assert v.return_home(ReturnReason.RECALL) == []  # already on the way: nothing new
    while v.flying:
        events += v.advance(2.0)
    assert v.clock_s - T0 < survey_sortie.estimated_duration_s - 100
    assert _metres(v.lat, v.lon, survey_nest.lat, survey_nest.lon) < 0.01


def test_low_battery_turns_home_and_lands_with_the_reserve(
    survey_nest: Nest, survey_sortie: Sortie
) -> None:
    v = _vehicle(survey_nest, survey_sortie, battery=0.32)
    events = _fly(v)
    notes = [e.text for e in events if isinstance(e, Notice)]
    assert any(t.startswith("low battery") for t in notes)
    assert v.return_reason is ReturnReason.LOW_BATTERY
    assert v.battery >= survey_nest.profile.reserve_fraction - 0.01
    assert _metres(v.lat, v.lon, survey_nest.lat, survey_nest.lon) < 0.01


def test_wind_above_the_limit_holds_the_launch(survey_nest: Nest, survey_sortie: Sortie) -> None:
    v = _vehicle(survey_nest, survey_sortie)
    v.wind_mps = survey_nest.profile.wind_launch_limit_mps + 2.0
    reason = v.start_mission()
    assert reason is not None
    assert "wind 12.0 m/s" in reason
    assert len(reason) <= 50
    assert not v.flying
    v.wind_mps = 3.0
    assert v.start_mission() is None


def test_link_loss_failsafe_returns_home_and_tells_when_the_link_is_back(
    survey_nest: Nest, survey_sortie: Sortie
) -> None:
    v = _vehicle(survey_nest, survey_sortie)
    v.schedule_link_loss(T0 + 200.0, 60.0, failsafe_s=5.0)
    assert v.start_mission() is None
    events: list[VehicleEvent] = []
    while v.flying or v.recovering_link:
        events += v.advance(1.0)
    assert v.return_reason is ReturnReason.LINK_LOST
    back = [e for e in events if isinstance(e, Notice) and e.text.startswith("link lost 60 s")]
    assert back
    assert back[0].t_s == pytest.approx(T0 + 260.0, abs=1.0)
    assert _metres(v.lat, v.lon, survey_nest.lat, survey_nest.lon) < 0.01


def test_the_nest_recharges_linearly_to_full(survey_nest: Nest) -> None:
    v = SimVehicle(survey_nest, clock_s=T0, battery=0.5)
    charge_s = survey_nest.profile.charge_time_s
    v.advance(charge_s / 4)
    assert v.battery == pytest.approx(0.75)
    v.rest(charge_s)
    assert v.battery == 1.0
    assert v.clock_s == pytest.approx(T0 + 1.25 * charge_s)


def test_control_errors_say_what_to_do(survey_nest: Nest, survey_sortie: Sortie) -> None:
    v = _vehicle(survey_nest, survey_sortie)
    assert v.start_mission() is None
    with pytest.raises(SimError, match="flying"):
        v.rest(10.0)
    with pytest.raises(SimError, match="in flight"):
        v.load_mission([])
    with pytest.raises(SimError, match="positive"):
        v.schedule_link_loss(T0, 0.0, failsafe_s=5.0)
    empty = SimVehicle(survey_nest, clock_s=T0)
    assert empty.start_mission() == "no mission loaded: upload one first"
