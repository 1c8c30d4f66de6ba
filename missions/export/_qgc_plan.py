"""QGroundControl ``.plan`` JSON (file format version 1, mission version 2)."""

from __future__ import annotations

import math
from dataclasses import replace
from enum import IntEnum
from typing import Any

from missions.export._items import MavFrame, MissionItem, MissionOptions, mission_items
from missions.fleet.profiles import Nest
from missions.planning.sortie import Sortie

PLAN_FILE_VERSION = 1
PLAN_MISSION_VERSION = 2
PLAN_FENCE_VERSION = 2
PLAN_RALLY_VERSION = 2
QGC_ALTITUDE_MODE_RELATIVE = 1  # QGC's AltitudeMode enum: heights relative to home


class MavAutopilot(IntEnum):
    """``MAV_AUTOPILOT`` as QGC's ``firmwareType``: which firmware the plan was made for."""

    GENERIC = 0
    ARDUPILOTMEGA = 3
    PX4 = 12


class MavType(IntEnum):
    """``MAV_TYPE`` as QGC's ``vehicleType``."""

    QUADROTOR = 2


def _json_number(value: float) -> float | None:
    """JSON has no NaN; QGC writes ``null`` for a parameter that is not set."""
    return None if math.isnan(value) else value


def _simple_item(item: MissionItem, jump_id: int) -> dict[str, Any]:
    params = [
        item.param1,
        item.param2,
        item.param3,
        item.param4,
        item.lat_deg,
        item.lon_deg,
        item.alt_m,
    ]
    out: dict[str, Any] = {
        "type": "SimpleItem",
        "autoContinue": item.autocontinue,
        "command": int(item.command),
        "doJumpId": jump_id,
        "frame": int(item.frame),
        "params": [_json_number(p) for p in params],
    }
    if item.frame is MavFrame.GLOBAL_RELATIVE_ALT:
        # What QGC itself writes for positioned items, so it shows the height as 'relative'.
        out |= {
            "AMSLAltAboveTerrain": None,
            "Altitude": item.alt_m,
            "AltitudeMode": QGC_ALTITUDE_MODE_RELATIVE,
        }
    return out


def to_qgc_plan(
    sortie: Sortie,
    nest: Nest,
    *,
    options: MissionOptions | None = None,
    firmware: MavAutopilot = MavAutopilot.GENERIC,
) -> dict[str, Any]:
    """Build a QGC ``.plan`` document, for planners who review or fly a sortie in QGroundControl.

    The nest is ``plannedHomePosition`` ([lat, lon, AMSL m]) rather than an item: in a ``.plan``
    the home position lives outside the item list. Geofence and rally points are left empty:
    no-fly zones are enforced by validation before export, not delegated to the autopilot.
    """
    items = mission_items(sortie, nest, replace(options or MissionOptions(), include_home=False))
    profile = nest.profile
    return {
        "fileType": "Plan",
        "version": PLAN_FILE_VERSION,
        "groundStation": "NestPatrol",
        "geoFence": {"circles": [], "polygons": [], "version": PLAN_FENCE_VERSION},
        "mission": {
            "version": PLAN_MISSION_VERSION,
            "firmwareType": int(firmware),
            "vehicleType": int(MavType.QUADROTOR),
            "cruiseSpeed": profile.cruise_speed_mps,
            "hoverSpeed": profile.cruise_speed_mps,
            "globalPlanAltitudeMode": QGC_ALTITUDE_MODE_RELATIVE,
            "plannedHomePosition": [nest.lat, nest.lon, nest.ground_elevation_m],
            "items": [_simple_item(item, i + 1) for i, item in enumerate(items)],
        },
        "rallyPoints": {"points": [], "version": PLAN_RALLY_VERSION},
    }
