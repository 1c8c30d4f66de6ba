"""DjiCloudNestAdapter against SimDjiDock through the real Mosquitto broker on loopback: a planner
sortie flown end to end, a recall, refusals (wind, a tampered wayline) and an offline dock."""

from __future__ import annotations

import itertools
import math
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from missions.fleet.profiles import Nest, NestStatus
from missions.planning.camera import patrol_survey
from missions.planning.sortie import Sortie, WaypointAction
from patrol.adapters.base import FlightOutcome, NestAdapter
from patrol.adapters.dji_cloud import DjiCloudConfig, DjiCloudNestAdapter, HttpWaylineServer
from patrol.adapters.mavlink import NestAdapterError
from patrol.sim.dji_dock import SimDjiDock, SimDockConfig

BROKER = ("127.0.0.1", 1883)
START = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
CONFIG = DjiCloudConfig(reply_timeout_s=2.0, state_timeout_s=2.0, silence_timeout_s=10.0,
                        flight_timeout_s=60.0, media_timeout_s=5.0)  # fmt: skip
SIM = SimDockConfig(speedup=1000.0)


def _broker_up() -> bool:
    try:
        with socket.create_connection(BROKER, timeout=1.0):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(
    not _broker_up(),
    reason=f"no MQTT broker on {BROKER[0]}:{BROKER[1]}; start one with `mosquitto -p 1883`",
)


@pytest.fixture
def dock(survey_nest: Nest) -> Iterator[SimDjiDock]:
    sn = uuid.uuid4().hex[:12]
    with SimDjiDock(
        survey_nest, gateway_sn=f"dock-{sn}", device_sn=f"uav-{sn}", start=START, config=SIM
    ) as d:
        yield d


def _adapter(dock: SimDjiDock, **kw: object) -> DjiCloudNestAdapter:
    cfg = kw.pop("config", CONFIG)
    assert isinstance(cfg, DjiCloudConfig)
    return DjiCloudNestAdapter(
        dock.nest,
        gateway_sn=dock.topics.gateway_sn,
        device_sn=dock.topics.device_sn,
        broker=BROKER,
        clock=dock,
        config=cfg,
        **kw,  # type: ignore[arg-type]
    )


def _metres(lat0: float, lon0: float, lat1: float, lon1: float) -> float:
    k = math.radians(1.0) * 6_371_008.8
    return math.hypot((lon1 - lon0) * k * math.cos(math.radians(lat0)), (lat1 - lat0) * k)


def _placemarks(sortie: Sortie) -> int:
    ends = (WaypointAction.TAKEOFF, WaypointAction.LAND)
    return sum(1 for w in sortie.waypoints if w.action not in ends)


def test_a_planner_sortie_flies_to_completion(
    dock: SimDjiDock, survey_sortie: Sortie, survey_photos: int
) -> None:
    with _adapter(dock) as adapter:
        before = adapter.state()
        log = adapter.fly(survey_sortie)
        after = adapter.state()
    nest = dock.nest
    assert before.status is NestStatus.AVAILABLE
    assert before.now == START
    assert log.outcome is FlightOutcome.COMPLETED, log.reason
    assert log.started_at == START
    assert log.ended_at is not None
    est = survey_sortie.estimated_duration_s
    assert (log.ended_at - START).total_seconds() == pytest.approx(est, rel=0.05)
    assert after.now == log.ended_at
    assert log.battery_start == 1.0
    assert log.battery_end is not None
    used = log.battery_start - log.battery_end
    assert used == pytest.approx(est / nest.profile.rated_endurance_s, abs=0.02)
    # the track: time-ordered, through every waypoint, ending on the ground at the nest
    track = log.track
    assert all(a.t <= b.t for a, b in itertools.pairwise(track))
    for w in survey_sortie.waypoints:
        assert min(_metres(p.lat, p.lon, w.lat, w.lon) for p in track) < 1.0
    assert _metres(track[-1].lat, track[-1].lon, nest.lat, nest.lon) < 0.5
    assert track[-1].alt_m == 0.0
    # every wayline waypoint reached, in order; frames at the planned spacing along each line
    assert log.reached == list(range(_placemarks(survey_sortie)))
    frames = log.captures
    assert len(frames) == survey_photos
    assert [c.index for c in frames] == list(range(len(frames)))
    spacing = patrol_survey(nest.profile.camera).trigger_spacing_m
    gaps = [
        _metres(a.lat, a.lon, b.lat, b.lon)
        for a, b in itertools.pairwise(frames)
        if abs(a.heading_deg - b.heading_deg) < 1.0
    ]
    assert gaps
    assert all(g == pytest.approx(spacing, abs=0.5) for g in gaps)
    assert all(START < c.t < log.ended_at for c in frames)


def test_the_dock_fetches_the_wayline_itself_when_the_prepare_has_none(
    dock: SimDjiDock, survey_sortie: Sortie
) -> None:
    with _adapter(dock, config=replace(CONFIG, send_file_in_prepare=False)) as adapter:
        log = adapter.fly(survey_sortie)
    assert log.outcome is FlightOutcome.COMPLETED, log.reason


def test_a_recall_returns_the_aircraft_home(dock: SimDjiDock, survey_sortie: Sortie) -> None:
    at = START + timedelta(minutes=5)
    with _adapter(dock) as adapter:
        log = adapter.fly(survey_sortie, recall=lambda t: t >= at)
        after = adapter.state()
    assert log.outcome is FlightOutcome.PREEMPTED, log.reason
    assert "recalled at" in log.reason
    assert len(log.reached) < _placemarks(survey_sortie)
    last = log.track[-1]
    assert _metres(last.lat, last.lon, dock.nest.lat, dock.nest.lon) < 0.5
    assert last.alt_m == 0.0
    assert log.ended_at is not None
    assert log.ended_at < START + timedelta(seconds=survey_sortie.estimated_duration_s)
    assert after.status is not NestStatus.FLYING


def test_a_battery_too_low_for_the_sortie_turns_home_early(
    dock: SimDjiDock, survey_sortie: Sortie
) -> None:
    dock.set_battery(0.45)
    with _adapter(dock) as adapter:
        log = adapter.fly(survey_sortie)
    assert log.outcome is FlightOutcome.LOW_BATTERY, log.reason
    assert log.reason.startswith("low battery")
    assert 0 < len(log.reached) < _placemarks(survey_sortie)
    assert log.track[-1].alt_m == 0.0


def test_wind_above_the_limit_holds_the_launch(dock: SimDjiDock, survey_sortie: Sortie) -> None:
    wind = dock.nest.profile.wind_launch_limit_mps + 3.0
    dock.set_wind(wind)
    with _adapter(dock) as adapter:
        # an OSD report the dock composed before the change may still be on its way (a CI run
        # read 0.0 once): the adapter reports what the dock last said, so wait for the new one
        deadline = time.monotonic() + 5.0
        while (state := adapter.state()).wind_mps != pytest.approx(wind):
            if time.monotonic() > deadline:
                break
        log = adapter.fly(survey_sortie)
    assert state.wind_mps == pytest.approx(wind)
    assert log.outcome is FlightOutcome.NOT_LAUNCHED
    assert "flighttask_execute refused" in log.reason
    assert "wind" in log.reason
    assert log.track == []


class _Tampering(HttpWaylineServer):
    """Serves a different file than the one the adapter fingerprinted."""

    def url(self, name: str) -> str:
        path = self.directory / name
        path.write_bytes(path.read_bytes() + b"tampered")
        return super().url(name)


def test_a_wayline_that_fails_its_fingerprint_is_refused(
    dock: SimDjiDock, survey_sortie: Sortie, tmp_path: Path
) -> None:
    store = _Tampering(tmp_path)
    try:
        with _adapter(dock, file_server=store) as adapter:
            log = adapter.fly(survey_sortie)
    finally:
        store.close()
    assert log.outcome is FlightOutcome.NOT_LAUNCHED
    assert "flighttask_prepare refused" in log.reason
    assert "fingerprint mismatch" in log.reason


def test_an_offline_dock_is_not_launched_quickly(survey_nest: Nest, survey_sortie: Sortie) -> None:
    sn = uuid.uuid4().hex[:12]
    cfg = replace(CONFIG, reply_timeout_s=0.5, state_timeout_s=0.5)
    t0 = time.monotonic()
    with DjiCloudNestAdapter(
        survey_nest, gateway_sn=f"dock-{sn}", device_sn=f"uav-{sn}", broker=BROKER, config=cfg
    ) as dji:
        adapter: NestAdapter = dji  # the controller's Protocol, checked by mypy
        state = adapter.state()
        log = adapter.fly(survey_sortie)
    assert state.status is NestStatus.OFFLINE
    assert log.outcome is FlightOutcome.NOT_LAUNCHED
    assert log.reason.startswith("dock offline")
    assert time.monotonic() - t0 < 3.0


def test_fast_forward_charges_the_battery(dock: SimDjiDock) -> None:
    dock.set_battery(0.5)
    later = START + timedelta(hours=1)
    with _adapter(dock) as adapter:
        state = adapter.wait_until(later)
    assert state.now == later
    assert state.battery > 0.5


def test_an_unreachable_broker_is_a_configuration_error(
    survey_nest: Nest, survey_sortie: Sortie
) -> None:
    with (
        DjiCloudNestAdapter(
            survey_nest, gateway_sn="dock-x", device_sn="uav-x", broker=("127.0.0.1", 1)
        ) as adapter,
        pytest.raises(NestAdapterError, match=r"cannot reach the MQTT broker.*Fix:"),
    ):
        adapter.fly(survey_sortie)
