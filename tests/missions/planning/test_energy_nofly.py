from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from missions.fleet import DroneProfile
from missions.planning.energy import count_turns, flight_time_s, round_trip_s, takeoff_s
from missions.planning.nofly import NoFlyZone, active_zones, obstacle_union

from .conftest import TZ


def test_flight_time_adds_takeoff_legs_turns_and_landing() -> None:
    p = DroneProfile()
    xy = np.array([[0, 0], [1200, 0], [1200, 1200], [0, 0]], dtype=float)
    t = flight_time_s(p, xy, np.full(4, 12.0), 120.0)
    legs = (1200 + 1200 + np.hypot(1200, 1200)) / 12.0
    assert t == pytest.approx(
        takeoff_s(p, 120.0)
        + legs
        + 2 * p.turn_time_s
        + 120.0 / p.descent_rate_mps
        + p.landing_overhead_s
    )


@given(st.floats(0, 20_000))
def test_round_trip_grows_with_distance(d: float) -> None:
    p = DroneProfile()
    assert round_trip_s(p, d + 100.0, 120.0) > round_trip_s(p, d, 120.0)


def test_straight_line_has_no_turns() -> None:
    assert count_turns(np.array([[0, 0], [1, 0], [2, 0], [3, 0.01]], dtype=float)) == 0


def _zone(**kw: object) -> NoFlyZone:
    return NoFlyZone("z", shapely.box(0, 0, 10, 10), **kw)  # type: ignore[arg-type]


def test_daily_window_wrapping_midnight() -> None:
    z = _zone(daily_start=time(22, 0), daily_end=time(6, 0))
    night = datetime(2026, 11, 24, 23, 30, tzinfo=TZ)
    noon = datetime(2026, 11, 24, 12, 0, tzinfo=TZ)
    assert z.active_during(night, night + timedelta(minutes=10), TZ)
    assert not z.active_during(noon, noon + timedelta(minutes=30), TZ)
    assert z.active_during(noon, noon + timedelta(hours=11), TZ)


def test_absolute_window_and_altitude_band() -> None:
    start = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    z = _zone(active_from=start, active_to=start + timedelta(hours=2), floor_m=150.0)
    assert z.active_during(start + timedelta(hours=1), start + timedelta(hours=3), TZ)
    assert not z.active_during(start + timedelta(hours=2), start + timedelta(hours=3), TZ)
    assert (
        active_zones([z], start=start, end=start + timedelta(hours=1), tz=TZ, max_altitude_m=120.0)
        == []
    )
    assert active_zones(
        [z], start=start, end=start + timedelta(hours=1), tz=TZ, max_altitude_m=200.0
    ) == [z]


@given(st.integers(0, 1000))
def test_keep_out_contains_every_zone_grown_by_the_margin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    zones = [
        NoFlyZone(f"z{k}", shapely.Point(*rng.uniform(0, 2000, 2)).buffer(rng.uniform(20, 400)))
        for k in range(int(rng.integers(1, 4)))
    ]
    ko = obstacle_union(zones, margin_m=30.0)
    for z in zones:
        assert shapely.area(shapely.difference(shapely.buffer(z.geometry, 29.0), ko)) < 1e-3
