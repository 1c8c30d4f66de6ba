"""A sortie as a list of MAVLink mission items: the one translation the WPL file, the QGC plan and
the MAVLink upload share, so the three can never disagree about what the vehicle is told to do.

Speed convention: ``Waypoint.speed_mps`` is the speed of the leg that *leaves* the waypoint (the
DJI WPML meaning of ``waypointSpeed``). MAVLink executes a DO command after reaching the previous
NAV item, so a ``DO_CHANGE_SPEED`` placed right after a waypoint's NAV item sets exactly that leg.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from missions.export._errors import ExportError
from missions.fleet.profiles import Nest
from missions.planning.sortie import Sortie, Waypoint, WaypointAction

_NAN = math.nan


class MavCmd(IntEnum):
    """The ``MAV_CMD`` values used here (numbers from the MAVLink common message set)."""

    NAV_WAYPOINT = 16
    NAV_LOITER_TIME = 19
    NAV_RETURN_TO_LAUNCH = 20
    NAV_LAND = 21
    NAV_TAKEOFF = 22
    DO_CHANGE_SPEED = 178
    DO_SET_CAM_TRIGG_DIST = 206


class MavFrame(IntEnum):
    """The ``MAV_FRAME`` values used here; the ``_INT`` twins are what MISSION_ITEM_INT carries."""

    GLOBAL = 0
    MISSION = 2
    GLOBAL_RELATIVE_ALT = 3
    GLOBAL_INT = 5
    GLOBAL_RELATIVE_ALT_INT = 6


class LandingMode(StrEnum):
    """How a sortie ends at its nest: land on the LAND waypoint, or have the autopilot go home."""

    LAND = "land"
    RETURN_TO_LAUNCH = "rtl"


class PrecisionLand(IntEnum):
    """``NAV_LAND`` param2 (``PRECISION_LAND_MODE``): a dock needs a precise touchdown."""

    DISABLED = 0
    OPPORTUNISTIC = 1
    REQUIRED = 2


class SpeedType(IntEnum):
    """``DO_CHANGE_SPEED`` param1 (``SPEED_TYPE``)."""

    AIRSPEED = 0
    GROUNDSPEED = 1


@dataclass(frozen=True)
class MissionOptions:
    """Choices the sortie itself does not carry; defaults suit a dock-class quadcopter."""

    landing: LandingMode = LandingMode.LAND
    precision_land: PrecisionLand = PrecisionLand.OPPORTUNISTIC
    loiter_time_s: float = 30.0
    include_home: bool = True  # QGC/ArduPilot convention: item 0 is the home position


@dataclass(frozen=True)
class MissionItem:
    """One MAVLink mission item in float degrees; ``alt_m`` is in the item's frame.

    Non-``_INT`` frames are used here (the file formats' convention); the MAVLink upload converts to
    the ``_INT`` twins and to degE7 integers at its edge.
    """

    seq: int
    frame: MavFrame
    command: MavCmd
    param1: float = 0.0
    param2: float = 0.0
    param3: float = 0.0
    param4: float = 0.0
    lat_deg: float = 0.0
    lon_deg: float = 0.0
    alt_m: float = 0.0
    current: bool = False
    autocontinue: bool = True


@dataclass
class _Builder:
    """Accumulates items with running sequence numbers and the vehicle's known state."""

    items: list[MissionItem]
    speed_mps: float | None = None
    camera_on: bool = False

    def add(
        self,
        frame: MavFrame,
        command: MavCmd,
        *params: float,
        at: Waypoint | None = None,
        alt_m: float | None = None,
    ) -> None:
        p = [*params, 0.0, 0.0, 0.0, 0.0][:4]
        lat, lon = (at.lat, at.lon) if at is not None else (0.0, 0.0)
        alt = alt_m if alt_m is not None else (at.alt_m if at is not None else 0.0)
        self.items.append(
            MissionItem(
                seq=len(self.items),
                frame=frame,
                command=command,
                param1=p[0],
                param2=p[1],
                param3=p[2],
                param4=p[3],
                lat_deg=lat,
                lon_deg=lon,
                alt_m=alt,
                current=not self.items,
            )
        )

    def nav(
        self, command: MavCmd, wp: Waypoint, *params: float, alt_m: float | None = None
    ) -> None:
        self.add(MavFrame.GLOBAL_RELATIVE_ALT, command, *params, at=wp, alt_m=alt_m)

    def do(self, command: MavCmd, *params: float) -> None:
        self.add(MavFrame.MISSION, command, *params)

    def speed(self, speed_mps: float) -> None:
        if self.speed_mps is None or not math.isclose(speed_mps, self.speed_mps):
            self.do(MavCmd.DO_CHANGE_SPEED, SpeedType.GROUNDSPEED, speed_mps, -1.0, 0.0)
            self.speed_mps = speed_mps

    def camera(self, spacing_m: float) -> None:
        # param3 = 1: take the first photo at once, so the survey's first frame is on the start.
        self.do(MavCmd.DO_SET_CAM_TRIGG_DIST, spacing_m, 0.0, 1.0 if spacing_m > 0 else 0.0)
        self.camera_on = spacing_m > 0


def _survey_spacing_m(sortie: Sortie, index: int, wp: Waypoint) -> float:
    if wp.trigger_spacing_m is None or not wp.trigger_spacing_m > 0:
        raise ExportError(
            f"sortie {sortie.sortie_id!r}, waypoint {index}: SURVEY_START without a positive "
            f"trigger_spacing_m ({wp.trigger_spacing_m!r}); the camera would never fire. "
            "Fix: give the survey start its photo spacing (the planner's trigger spacing)."
        )
    return wp.trigger_spacing_m


def mission_items(
    sortie: Sortie, nest: Nest, options: MissionOptions | None = None
) -> list[MissionItem]:
    """Translate a sortie into MAVLink mission items, once, for every MAVLink-speaking output.

    Raises :class:`ExportError` when the sortie cannot be expressed (empty, or a survey start with
    no photo spacing). Flight-safety checks are not made here: they run before export.
    """
    opts = options or MissionOptions()
    if not sortie.waypoints:
        raise ExportError(
            f"sortie {sortie.sortie_id!r} has no waypoints; nothing to export. "
            "Fix: plan the sortie before exporting it."
        )
    b = _Builder(items=[])
    if opts.include_home:
        home = Waypoint(lon=nest.lon, lat=nest.lat, alt_m=nest.ground_elevation_m, speed_mps=0.0)
        b.add(MavFrame.GLOBAL, MavCmd.NAV_WAYPOINT, at=home)
    landed = False
    for i, wp in enumerate(sortie.waypoints):
        landed = _add_waypoint(b, sortie, i, wp, opts)
    if not landed:
        if b.camera_on:
            b.camera(0.0)
        b.do(MavCmd.NAV_RETURN_TO_LAUNCH)
    return b.items


def _add_waypoint(b: _Builder, sortie: Sortie, i: int, wp: Waypoint, opts: MissionOptions) -> bool:
    """Append one waypoint's items; True when it ended the mission (landing or RTL)."""
    match wp.action:
        case WaypointAction.TAKEOFF:
            b.nav(MavCmd.NAV_TAKEOFF, wp, 0.0, 0.0, 0.0, _NAN)
        case WaypointAction.LAND:
            if b.camera_on:
                b.camera(0.0)
            if opts.landing is LandingMode.RETURN_TO_LAUNCH:
                b.do(MavCmd.NAV_RETURN_TO_LAUNCH)
            else:
                b.nav(MavCmd.NAV_LAND, wp, 0.0, float(opts.precision_land), 0.0, _NAN, alt_m=0.0)
            return True
        case WaypointAction.LOITER:
            b.nav(MavCmd.NAV_LOITER_TIME, wp, opts.loiter_time_s, 0.0, 0.0, 0.0)
        case _:
            b.nav(MavCmd.NAV_WAYPOINT, wp, 0.0, 0.0, 0.0, _NAN)
    if wp.action is WaypointAction.SURVEY_START:
        b.camera(_survey_spacing_m(sortie, i, wp))
    elif wp.action is WaypointAction.SURVEY_END and b.camera_on:
        b.camera(0.0)
    if wp.speed_mps > 0:
        b.speed(wp.speed_mps)
    return False
