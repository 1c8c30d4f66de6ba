"""Time-based energy model: a sortie's battery use is its flight time.

A multirotor's power draw is nearly constant in cruise and hover, so battery use is planned as
time (the usual practice for dock-class quadcopters): take-off (dock opening plus climb),
horizontal legs at their speeds, a fixed loss per turn (decelerate, yaw, accelerate), descent
and precision landing. A sortie is feasible when that time fits the profile's ``plannable_s``
(usable endurance minus the reserve).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from missions.fleet.profiles import DroneProfile

__all__ = [
    "TURN_THRESHOLD_DEG",
    "charge_gap_s",
    "count_turns",
    "flight_time_s",
    "landing_s",
    "round_trip_s",
    "takeoff_s",
]

FloatArray = NDArray[np.float64]
TURN_THRESHOLD_DEG = 20.0  # heading changes below this are flown through without slowing


def takeoff_s(profile: DroneProfile, altitude_m: float) -> float:
    """Dock opening and climb: the profile's launch overhead, or the climb if that takes longer."""
    return max(profile.launch_overhead_s, altitude_m / profile.climb_rate_mps)


def landing_s(profile: DroneProfile, altitude_m: float) -> float:
    """Descent to the dock plus precision landing."""
    return altitude_m / profile.descent_rate_mps + profile.landing_overhead_s


def count_turns(xy: FloatArray) -> int:
    """Interior vertices of a polyline where the heading changes by more than the threshold."""
    if len(xy) < 3:
        return 0
    d = np.diff(xy, axis=0)
    keep = np.hypot(d[:, 0], d[:, 1]) > 1e-6
    d = d[keep]
    if len(d) < 2:
        return 0
    heading = np.arctan2(d[:, 1], d[:, 0])
    change = np.abs((np.diff(heading) + math.pi) % (2 * math.pi) - math.pi)
    return int(np.sum(change > math.radians(TURN_THRESHOLD_DEG)))


def flight_time_s(
    profile: DroneProfile, xy: FloatArray, speed_mps: FloatArray, altitude_m: float
) -> float:
    """Battery time of a sortie flown through ``xy`` (metres), leg ``i`` at ``speed_mps[i+1]``."""
    d = np.diff(xy, axis=0)
    lengths = np.hypot(d[:, 0], d[:, 1])
    legs = float(np.sum(lengths / np.maximum(speed_mps[1:], 0.1)))
    turns = count_turns(xy) * profile.turn_time_s
    return takeoff_s(profile, altitude_m) + legs + turns + landing_s(profile, altitude_m)


def round_trip_s(profile: DroneProfile, distance_m: float, altitude_m: float) -> float:
    """Out and back at cruise speed with take-off and landing: the reachability test."""
    return (
        takeoff_s(profile, altitude_m)
        + 2.0 * distance_m / profile.cruise_speed_mps
        + 2.0 * profile.turn_time_s
        + landing_s(profile, altitude_m)
    )


def charge_gap_s(profile: DroneProfile, flight_s: float, min_charge_s: float = 300.0) -> float:
    """Dock time after a flight: charge time in proportion to the battery used, at least a floor."""
    return max(min_charge_s, profile.charge_time_s * flight_s / profile.plannable_s)
