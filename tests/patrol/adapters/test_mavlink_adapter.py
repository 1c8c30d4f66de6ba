"""MavlinkNestAdapter against simulated nests (SimFleet: vehicles in a child process, MAVLink 2
over UDP on loopback): a planner sortie flown end to end, and every way a flight can end early."""

from __future__ import annotations

import itertools
import math
import struct
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import shapely

from missions.export import mission_items
from missions.fleet.profiles import Nest, NestStatus
from missions.planning.camera import patrol_survey
from missions.planning.frame import MetricFrame
from missions.planning.sortie import Sortie
from patrol.adapters.base import FlightLog, FlightOutcome, RecallCheck
from patrol.adapters.mavlink import AdapterConfig, MavlinkNestAdapter, NestAdapterError
from patrol.mavlink import to_item_int
from patrol.sim.nests import SimFleet, SimNest

START = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
CONFIG = AdapterConfig(
    heartbeat_timeout_s=1.0,
    command_timeout_s=0.5,
    silence_timeout_s=5.0,
    link_return_timeout_s=20.0,
    flight_timeout_s=60.0,
)
NESTS = ["ok", "download", "recall", "wind", "offline", "battery", "link", "charge"]


@pytest.fixture(scope="module")
def fleet(survey_nest: Nest) -> Iterator[SimFleet]:
    with SimFleet([replace(survey_nest, nest_id=n) for n in NESTS], start=START) as f:
        yield f


@pytest.fixture
def opened() -> Iterator[list[MavlinkNestAdapter]]:
    """Adapters a test opened, closed whatever happens (each holds a UDP socket)."""
    adapters: list[MavlinkNestAdapter] = []
    yield adapters
    for a in adapters:
        a.close()


def _fly(
    fleet: SimFleet,
    opened: list[MavlinkNestAdapter],
    nest_id: str,
    sortie: Sortie,
    recall: RecallCheck | None = None,
) -> tuple[FlightLog, SimNest, MavlinkNestAdapter]:
    sim = fleet[nest_id]
    adapter = MavlinkNestAdapter(sim.nest, sim.url, clock=sim, config=CONFIG)
    opened.append(adapter)
    log = adapter.fly(replace(sortie, nest_id=nest_id), recall=recall)
    return log, sim, adapter


def f32(value: float) -> float:
    """What a float becomes on the wire (MISSION_ITEM_INT params and z are float32)."""
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def _metres(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    k = math.radians(1.0) * 6_371_008.8
    return math.hypot((lon1 - lon0) * k * math.cos(math.radians(lat0)), (lat1 - lat0) * k)


def _at_nest(log: FlightLog, nest: Nest) -> bool:
    last = log.track[-1]
    return _metres(last.lat, last.lon, nest.lat, nest.lon) < 0.5 and last.alt_m == 0.0


def test_a_planner_sortie_flies_end_to_end(
    fleet: SimFleet,
    opened: list[MavlinkNestAdapter],
    survey_sortie: Sortie,
    survey_frame: MetricFrame,
    survey_photos: int,
) -> None:
    t0 = time.monotonic()
    log, sim, _adapter = _fly(fleet, opened, "ok", survey_sortie)
    wall_s = time.monotonic() - t0
    est, nest = survey_sortie.estimated_duration_s, sim.nest
    assert log.outcome is FlightOutcome.COMPLETED, log.reason
    assert log.started_at == START
    assert log.ended_at is not None
    assert log.ended_at.tzinfo is UTC
    assert (log.ended_at - START).total_seconds() == pytest.approx(est, rel=0.01)
    assert abs(sim.now() - log.ended_at) < timedelta(milliseconds=1)
    assert log.battery_start == 1.0
    assert log.battery_end is not None
    used = log.battery_start - log.battery_end
    assert used == pytest.approx(est / nest.profile.rated_endurance_s, rel=0.03)
    assert _at_nest(log, nest)
    # the track follows the planned path, passes every waypoint, and is time-ordered
    wps = survey_sortie.waypoints
    planned = shapely.LineString(survey_frame.to_metric([w.lon for w in wps], [w.lat for w in wps]))
    xy = survey_frame.to_metric([p.lon for p in log.track], [p.lat for p in log.track])
    assert max(planned.distance(shapely.Point(p)) for p in xy) < 2.0
    for w in survey_sortie.waypoints:
        assert min(_metres(p.lat, p.lon, w.lat, w.lon) for p in log.track) < 1.0
    assert all(a.t <= b.t for a, b in itertools.pairwise(log.track))
    # every NAV item reached, in order; frames at the trigger spacing along each line
    items = mission_items(survey_sortie, nest)
    assert log.reached == [i.seq for i in items if i.seq > 0 and int(i.command) in (16, 21, 22)]
    spacing = patrol_survey(nest.profile.camera).trigger_spacing_m
    frames = log.captures
    assert len(frames) == survey_photos
    gaps = [
        _metres(a.lat, a.lon, b.lat, b.lon)
        for a, b in itertools.pairwise(frames)
        if abs(a.heading_deg - b.heading_deg) < 1.0
    ]
    assert all(g == pytest.approx(spacing, rel=0.10) for g in gaps)
    assert all(START < f.t < log.ended_at for f in frames)
    assert wall_s < 5.0  # ≈15 simulated minutes; typically ≈0.1 s of wall time


def test_the_uploaded_mission_is_what_the_vehicle_holds(
    fleet: SimFleet, opened: list[MavlinkNestAdapter], survey_sortie: Sortie
) -> None:
    log, sim, adapter = _fly(fleet, opened, "download", survey_sortie)
    assert log.outcome is FlightOutcome.COMPLETED
    got = adapter.download()
    sent = [to_item_int(i) for i in mission_items(survey_sortie, sim.nest)]
    assert len(got) == len(sent)
    for s, g in zip(sent, got, strict=True):
        assert (s.seq, s.command, s.frame, s.x, s.y) == (g.seq, g.command, g.frame, g.x, g.y)
        assert f32(s.param1) == g.param1 or (math.isnan(s.param1) and math.isnan(g.param1))
        assert f32(s.z) == g.z


def test_recall_preempts_and_lands_home_early(
    fleet: SimFleet, opened: list[MavlinkNestAdapter], survey_sortie: Sortie
) -> None:
    asked: list[datetime] = []

    def recall(t: datetime) -> bool:
        asked.append(t)
        return t >= START + timedelta(seconds=300)

    log, sim, _adapter = _fly(fleet, opened, "recall", survey_sortie, recall)
    assert log.outcome is FlightOutcome.PREEMPTED
    assert "recalled at 2026-11-24T02:05:0" in log.reason
    assert log.ended_at is not None
    assert (log.ended_at - START).total_seconds() < survey_sortie.estimated_duration_s - 200
    assert _at_nest(log, sim.nest)
    assert len(asked) > 100
    assert all(t.tzinfo is UTC for t in asked)


def test_wind_above_the_launch_limit_holds(
    fleet: SimFleet, opened: list[MavlinkNestAdapter], survey_sortie: Sortie
) -> None:
    fleet["wind"].set_wind(13.0)
    log, sim, adapter = _fly(fleet, opened, "wind", survey_sortie)
    assert log.outcome is FlightOutcome.NOT_LAUNCHED
    assert log.reason == "wind 13.0 m/s above launch limit 10.0 m/s: hold"
    assert log.started_at is None
    assert sim.now() == START
    assert adapter.state().wind_mps == pytest.approx(13.0)


def test_offline_nest_is_not_launched_quickly(
    fleet: SimFleet, opened: list[MavlinkNestAdapter], survey_sortie: Sortie
) -> None:
    fleet["offline"].set_online(False)
    t0 = time.monotonic()
    log, sim, adapter = _fly(fleet, opened, "offline", survey_sortie)
    assert log.outcome is FlightOutcome.NOT_LAUNCHED
    assert log.reason.startswith("nest offline: no HEARTBEAT")
    assert time.monotonic() - t0 < 3.0
    assert adapter.state().status is NestStatus.OFFLINE
    sim.set_online(True)
    assert adapter.state().status is NestStatus.AVAILABLE


def test_low_battery_returns_home(
    fleet: SimFleet, opened: list[MavlinkNestAdapter], survey_sortie: Sortie
) -> None:
    fleet["battery"].set_battery(0.32)
    log, sim, _adapter = _fly(fleet, opened, "battery", survey_sortie)
    assert log.outcome is FlightOutcome.LOW_BATTERY
    assert log.reason.startswith("low battery")
    assert log.battery_start == pytest.approx(0.32, abs=0.001)
    assert log.battery_end is not None
    assert log.battery_end >= sim.nest.profile.reserve_fraction - 0.01
    assert _at_nest(log, sim.nest)


def test_link_loss_is_reported_after_the_vehicle_is_heard_again_home(
    fleet: SimFleet, opened: list[MavlinkNestAdapter], survey_sortie: Sortie
) -> None:
    sim = fleet["link"]
    sim.schedule_link_loss(START + timedelta(seconds=200), 60.0)
    log, sim, _adapter = _fly(fleet, opened, "link", survey_sortie)
    assert log.outcome is FlightOutcome.LINK_LOST
    assert "link lost" in log.reason or "no telemetry" in log.reason
    gaps = [(b.t - a.t).total_seconds() for a, b in itertools.pairwise(log.track)]
    assert max(gaps) == pytest.approx(60.0, abs=3.0)
    assert _at_nest(log, sim.nest)
    snap = sim.snapshot()
    assert _metres(snap.lat, snap.lon, sim.nest.lat, sim.nest.lon) < 0.5


def test_the_nest_recharges_while_time_is_fast_forwarded(
    fleet: SimFleet, opened: list[MavlinkNestAdapter], survey_sortie: Sortie
) -> None:
    log, _sim, adapter = _fly(fleet, opened, "charge", survey_sortie)
    assert log.ended_at is not None
    assert log.battery_end is not None
    state = adapter.state()
    assert state.status is NestStatus.CHARGING
    assert abs(state.now - log.ended_at) < timedelta(milliseconds=1)
    later = adapter.wait_until(log.ended_at + timedelta(minutes=5))
    assert abs(later.now - log.ended_at - timedelta(minutes=5)) < timedelta(milliseconds=1)
    assert later.battery == pytest.approx(log.battery_end + 300 / 1800, abs=0.001)
    full = adapter.wait_until(log.ended_at + timedelta(hours=2))
    assert (full.battery, full.status) == (1.0, NestStatus.AVAILABLE)
    with pytest.raises(NestAdapterError, match="belongs to nest"):
        adapter.fly(survey_sortie)
