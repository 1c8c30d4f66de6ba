"""Drone, camera and nest descriptions with dock-class defaults (see design.md, "Numbers").

Units are in the names. Everything is configurable; the defaults describe a dock-class
quadcopter with a 4/3" 20 MP wide camera.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class NestStatus(StrEnum):
    AVAILABLE = "available"
    CHARGING = "charging"
    FLYING = "flying"
    OFFLINE = "offline"


class BatteryMode(StrEnum):
    """Stored charge between flights: normal (≈55–60 %, kind to the cells) or standby (≈90–95 %)."""

    NORMAL = "normal"
    STANDBY = "standby"


@dataclass(frozen=True)
class CameraSpec:
    """A nadir frame camera. Defaults: 4/3" 20 MP class (17.3 × 13.0 mm, 12.3 mm lens)."""

    sensor_width_mm: float = 17.3
    sensor_height_mm: float = 13.0
    focal_length_mm: float = 12.29
    image_width_px: int = 5280
    image_height_px: int = 3956
    min_trigger_interval_s: float = 0.7


@dataclass(frozen=True)
class DroneProfile:
    """Performance and limits of one drone model, as the planner uses them."""

    name: str = "dock-quad"
    cruise_speed_mps: float = 12.0
    max_speed_mps: float = 18.0
    climb_rate_mps: float = 6.0
    descent_rate_mps: float = 5.0
    turn_time_s: float = 6.0
    rated_endurance_s: float = 50 * 60
    usable_endurance_s: float = 35 * 60
    reserve_fraction: float = 0.20
    charge_time_s: float = 30 * 60
    launch_overhead_s: float = 75.0
    landing_overhead_s: float = 60.0
    max_radius_m: float = 10_000.0
    wind_launch_limit_mps: float = 10.0
    camera: CameraSpec = field(default_factory=CameraSpec)

    @property
    def plannable_s(self) -> float:
        """Flight time a sortie may use: usable endurance minus the reserve."""
        return self.usable_endurance_s * (1.0 - self.reserve_fraction)


@dataclass(frozen=True)
class Nest:
    """A dock with its drone. ``lon``/``lat`` WGS-84; ``ground_elevation_m`` above sea level."""

    nest_id: str
    lon: float
    lat: float
    ground_elevation_m: float = 0.0
    profile: DroneProfile = field(default_factory=DroneProfile)
    status: NestStatus = NestStatus.AVAILABLE
    battery_mode: BatteryMode = BatteryMode.NORMAL
    name: str = ""
