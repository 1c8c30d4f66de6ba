"""Waypoints and sorties: the planner's output, the exporters' and the nest adapters' input.

Coordinates are WGS-84 lon/lat; ``alt_m`` is height above the take-off point (the nest), which is
also what MAVLink's ``GLOBAL_RELATIVE_ALT`` frame and DJI WPML's ``relativeToStartPoint`` mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class WaypointAction(StrEnum):
    """What the vehicle does at a waypoint."""

    TAKEOFF = "takeoff"
    TRANSIT = "transit"  # fly through, camera off
    SURVEY_START = "survey_start"  # start distance-triggered capture
    SURVEY = "survey"  # fly through, capturing
    SURVEY_END = "survey_end"  # stop capture
    LOITER = "loiter"
    LAND = "land"  # land at the nest


@dataclass(frozen=True)
class Waypoint:
    lon: float
    lat: float
    alt_m: float
    speed_mps: float
    action: WaypointAction = WaypointAction.TRANSIT
    trigger_spacing_m: float | None = None  # distance between photos while surveying


@dataclass
class Sortie:
    """One flight from a nest back to it."""

    sortie_id: str
    nest_id: str
    waypoints: list[Waypoint]
    cell_ids: list[str] = field(default_factory=list)
    estimated_duration_s: float = 0.0
    planned_start: datetime | None = None

    @property
    def planned_end(self) -> datetime | None:
        if self.planned_start is None:
            return None
        return self.planned_start + timedelta(seconds=self.estimated_duration_s)
