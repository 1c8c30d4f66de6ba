"""Nests (docks), drone and camera profiles: the fleet the planner plans for."""

from missions.fleet.profiles import (
    BatteryMode,
    CameraSpec,
    DroneProfile,
    Nest,
    NestStatus,
)

__all__ = ["BatteryMode", "CameraSpec", "DroneProfile", "Nest", "NestStatus"]
