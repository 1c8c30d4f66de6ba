"""DJI WPML ``.kmz``: ``wpmz/template.kml`` (the editable template) + ``wpmz/waylines.wpml`` (what
the aircraft executes), for DJI docks flown through FlightHub 2 or the DJI Cloud API.

The dock takes off to ``takeOffSecurityHeight`` by itself and ``finishAction goHome`` brings the
aircraft back and lands it, so the sortie's TAKEOFF and LAND waypoints become mission settings,
not placemarks. Heights are ``relativeToStartPoint`` (above the nest), exactly ``Waypoint.alt_m``.
"""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum

from missions.export._errors import ExportError
from missions.fleet.profiles import Nest
from missions.planning.sortie import Sortie, Waypoint, WaypointAction

KML_NS = "http://www.opengis.net/kml/2.2"
WPML_NS = "http://www.dji.com/wpmz/1.0.2"
TEMPLATE_PATH = "wpmz/template.kml"
WAYLINES_PATH = "wpmz/waylines.wpml"
TAKEOFF_SECURITY_HEIGHT_RANGE_M = (8.0, 1500.0)  # DJI's range for dock missions
_EARTH_RADIUS_M = 6_371_008.8
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same sortie always gives the same bytes


class DjiAircraft(Enum):
    """Dock aircraft as (droneEnumValue, droneSubEnumValue, payloadEnumValue) of DJI's tables."""

    M30 = (67, 0, 52)
    M30T = (67, 1, 53)
    M3D = (91, 0, 80)
    M3TD = (91, 1, 81)


class FinishAction(StrEnum):
    GO_HOME = "goHome"
    AUTO_LAND = "autoLand"
    NO_ACTION = "noAction"


class RcLostAction(StrEnum):
    GO_BACK = "goBack"
    LANDING = "landing"
    HOVER = "hover"


class _Trigger(StrEnum):
    REACH_POINT = "reachPoint"
    MULTIPLE_DISTANCE = "multipleDistance"


@dataclass(frozen=True)
class WpmlOptions:
    """Aircraft model and mission-level behaviour; defaults: a Dock 2 M3D going home at the end."""

    aircraft: DjiAircraft = DjiAircraft.M3D
    finish_action: FinishAction = FinishAction.GO_HOME
    rc_lost_action: RcLostAction = RcLostAction.GO_BACK
    loiter_time_s: float = 30.0
    author: str = "NestPatrol"


def _w(tag: str) -> str:
    return f"{{{WPML_NS}}}{tag}"


def _k(tag: str) -> str:
    return f"{{{KML_NS}}}{tag}"


def _sub(parent: ET.Element, tag: str, text: object = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = _fmt(text) if isinstance(text, float) else str(text)
    return el


def _fmt(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _haversine_m(a: Waypoint, b: Waypoint) -> float:
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class _Plan:
    """What both files are built from: the placemark waypoints and the mission settings."""

    points: list[Waypoint]
    takeoff_height_m: float
    transitional_speed_mps: float


def _plan(sortie: Sortie) -> _Plan:
    wps = sortie.waypoints
    points = [w for w in wps if w.action not in (WaypointAction.TAKEOFF, WaypointAction.LAND)]
    if len(points) < 2:
        raise ExportError(
            f"sortie {sortie.sortie_id!r} has {len(points)} waypoint(s) besides take-off and "
            "landing; a DJI wayline needs at least 2. Fix: export a sortie with a flight path."
        )
    takeoff = next((w for w in wps if w.action is WaypointAction.TAKEOFF), points[0])
    low, high = TAKEOFF_SECURITY_HEIGHT_RANGE_M
    if not low <= takeoff.alt_m <= high:
        raise ExportError(
            f"sortie {sortie.sortie_id!r}: take-off height {takeoff.alt_m} m is outside DJI's "
            f"takeOffSecurityHeight range [{low}, {high}] m for docks. "
            "Fix: plan the take-off waypoint at least 8 m above the nest."
        )
    for i, w in enumerate(wps):
        if not w.speed_mps > 0:
            raise ExportError(
                f"sortie {sortie.sortie_id!r}, waypoint {i}: speed {w.speed_mps} m/s; DJI needs a "
                "positive waypointSpeed. Fix: give every waypoint its leg speed."
            )
    return _Plan(
        points=points, takeoff_height_m=takeoff.alt_m, transitional_speed_mps=takeoff.speed_mps
    )


def _mission_config(doc: ET.Element, plan: _Plan, nest: Nest, opts: WpmlOptions) -> None:
    cfg = _sub(doc, _w("missionConfig"))
    _sub(cfg, _w("flyToWaylineMode"), "safely")
    _sub(cfg, _w("finishAction"), opts.finish_action.value)
    _sub(cfg, _w("exitOnRCLost"), "executeLostAction")
    _sub(cfg, _w("executeRCLostAction"), opts.rc_lost_action.value)
    _sub(cfg, _w("takeOffSecurityHeight"), float(plan.takeoff_height_m))
    _sub(cfg, _w("takeOffRefPoint"), f"{nest.lat:.8f},{nest.lon:.8f},{nest.ground_elevation_m}")
    _sub(cfg, _w("globalTransitionalSpeed"), float(plan.transitional_speed_mps))
    drone, sub_type, payload = opts.aircraft.value
    info = _sub(cfg, _w("droneInfo"))
    _sub(info, _w("droneEnumValue"), drone)
    _sub(info, _w("droneSubEnumValue"), sub_type)
    pinfo = _sub(cfg, _w("payloadInfo"))
    _sub(pinfo, _w("payloadEnumValue"), payload)
    _sub(pinfo, _w("payloadPositionIndex"), 0)


def _action_group(
    pm: ET.Element,
    group_id: int,
    span: tuple[int, int],
    trigger: _Trigger,
    trigger_param: float | None,
) -> ET.Element:
    group = _sub(pm, _w("actionGroup"))
    _sub(group, _w("actionGroupId"), group_id)
    _sub(group, _w("actionGroupStartIndex"), span[0])
    _sub(group, _w("actionGroupEndIndex"), span[1])
    _sub(group, _w("actionGroupMode"), "sequence")
    trig = _sub(group, _w("actionTrigger"))
    _sub(trig, _w("actionTriggerType"), trigger.value)
    if trigger_param is not None:
        _sub(trig, _w("actionTriggerParam"), float(trigger_param))
    return group


def _action(
    group: ET.Element, action_id: int, func: str, params: Sequence[tuple[str, object]]
) -> None:
    action = _sub(group, _w("action"))
    _sub(action, _w("actionId"), action_id)
    _sub(action, _w("actionActuatorFunc"), func)
    fparams = _sub(action, _w("actionActuatorFuncParam"))
    for name, value in params:
        _sub(fparams, _w(name), value)


_NADIR = (
    ("gimbalHeadingYawBase", "north"),
    ("gimbalRotateMode", "absoluteAngle"),
    ("gimbalPitchRotateEnable", 1),
    ("gimbalPitchRotateAngle", -90),
    ("gimbalRollRotateEnable", 0),
    ("gimbalRollRotateAngle", 0),
    ("gimbalYawRotateEnable", 0),
    ("gimbalYawRotateAngle", 0),
    ("gimbalRotateTimeEnable", 0),
    ("gimbalRotateTime", 0),
    ("payloadPositionIndex", 0),
)


def _survey_end(points: list[Waypoint], start: int) -> int:
    for j in range(start + 1, len(points)):
        if points[j].action is WaypointAction.SURVEY_END:
            return j
    return len(points) - 1


def _actions(
    pm: ET.Element, points: list[Waypoint], i: int, opts: WpmlOptions, next_id: int
) -> int:
    """Add waypoint i's action groups; returns the next free actionGroupId."""
    wp = points[i]
    if i == 0:  # point the camera straight down before anything is imaged
        group = _action_group(pm, next_id, (i, i), _Trigger.REACH_POINT, None)
        _action(group, 0, "gimbalRotate", _NADIR)
        next_id += 1
    if wp.action is WaypointAction.SURVEY_START and wp.trigger_spacing_m:
        span = (i, _survey_end(points, i))
        group = _action_group(pm, next_id, span, _Trigger.MULTIPLE_DISTANCE, wp.trigger_spacing_m)
        _action(group, 0, "takePhoto", (("payloadPositionIndex", 0),))
        next_id += 1
    elif wp.action is WaypointAction.LOITER:
        group = _action_group(pm, next_id, (i, i), _Trigger.REACH_POINT, None)
        _action(group, 0, "hover", (("hoverTime", float(opts.loiter_time_s)),))
        next_id += 1
    return next_id


def _placemark(
    folder: ET.Element, wp: Waypoint, index: int, nest: Nest, *, executable: bool
) -> ET.Element:
    pm = _sub(folder, _k("Placemark"))
    point = _sub(pm, _k("Point"))
    _sub(point, _k("coordinates"), f"{wp.lon:.8f},{wp.lat:.8f}")
    _sub(pm, _w("index"), index)
    if executable:
        _sub(pm, _w("executeHeight"), float(wp.alt_m))
        _sub(pm, _w("waypointSpeed"), float(wp.speed_mps))
        heading = _sub(pm, _w("waypointHeadingParam"))
        _sub(heading, _w("waypointHeadingMode"), "followWayline")
        turn = _sub(pm, _w("waypointTurnParam"))
        _sub(turn, _w("waypointTurnMode"), "toPointAndStopWithDiscontinuityCurvature")
        _sub(turn, _w("waypointTurnDampingDist"), 0)
    else:
        # ellipsoidHeight is shown by DJI's editors only; nest AMSL + height approximates it.
        _sub(pm, _w("ellipsoidHeight"), float(nest.ground_elevation_m + wp.alt_m))
        _sub(pm, _w("height"), float(wp.alt_m))
        _sub(pm, _w("useGlobalHeight"), 0)
        _sub(pm, _w("useGlobalSpeed"), 0)
        _sub(pm, _w("waypointSpeed"), float(wp.speed_mps))
        _sub(pm, _w("useGlobalHeadingParam"), 1)
        _sub(pm, _w("useGlobalTurnParam"), 1)
    _sub(pm, _w("useStraightLine"), 1)
    return pm


def _document(
    plan: _Plan, nest: Nest, opts: WpmlOptions, created_ms: int | None
) -> tuple[ET.Element, ET.Element]:
    root = ET.Element(_k("kml"))
    doc = _sub(root, _k("Document"))
    if created_ms is not None:
        _sub(doc, _w("author"), opts.author)
        _sub(doc, _w("createTime"), created_ms)
        _sub(doc, _w("updateTime"), created_ms)
    _mission_config(doc, plan, nest, opts)
    return root, _sub(doc, _k("Folder"))


def _template_kml(sortie: Sortie, plan: _Plan, nest: Nest, opts: WpmlOptions) -> ET.Element:
    start = sortie.planned_start
    created_ms = int(start.timestamp() * 1000) if start is not None else 0
    root, folder = _document(plan, nest, opts, created_ms)
    _sub(folder, _w("templateType"), "waypoint")
    _sub(folder, _w("templateId"), 0)
    coord = _sub(folder, _w("waylineCoordinateSysParam"))
    _sub(coord, _w("coordinateMode"), "WGS84")
    _sub(coord, _w("heightMode"), "relativeToStartPoint")
    _sub(folder, _w("autoFlightSpeed"), float(nest.profile.cruise_speed_mps))
    _sub(folder, _w("globalHeight"), float(plan.points[0].alt_m))
    _sub(folder, _w("caliFlightEnable"), 0)
    _sub(folder, _w("gimbalPitchMode"), "usePointSetting")
    heading = _sub(folder, _w("globalWaypointHeadingParam"))
    _sub(heading, _w("waypointHeadingMode"), "followWayline")
    _sub(folder, _w("globalWaypointTurnMode"), "toPointAndStopWithDiscontinuityCurvature")
    _sub(folder, _w("globalUseStraightLine"), 1)
    _fill_placemarks(folder, plan, nest, opts, executable=False)
    payload = _sub(folder, _w("payloadParam"))
    _sub(payload, _w("payloadPositionIndex"), 0)
    _sub(payload, _w("imageFormat"), "visable")  # DJI's spelling of the visible-light lens
    return root


def _waylines_wpml(sortie: Sortie, plan: _Plan, nest: Nest, opts: WpmlOptions) -> ET.Element:
    root, folder = _document(plan, nest, opts, None)
    pts = plan.points
    _sub(folder, _w("templateId"), 0)
    _sub(folder, _w("executeHeightMode"), "relativeToStartPoint")
    _sub(folder, _w("waylineId"), 0)
    _sub(folder, _w("distance"), round(sum(map(_haversine_m, pts, pts[1:])), 1))
    _sub(folder, _w("duration"), round(float(sortie.estimated_duration_s), 1))
    _sub(folder, _w("autoFlightSpeed"), float(nest.profile.cruise_speed_mps))
    _fill_placemarks(folder, plan, nest, opts, executable=True)
    return root


def _fill_placemarks(
    folder: ET.Element, plan: _Plan, nest: Nest, opts: WpmlOptions, *, executable: bool
) -> None:
    group_id = 0
    for i, wp in enumerate(plan.points):
        pm = _placemark(folder, wp, i, nest, executable=executable)
        group_id = _actions(pm, plan.points, i, opts, group_id)


def _xml_bytes(root: ET.Element) -> bytes:
    ET.register_namespace("", KML_NS)
    ET.register_namespace("wpml", WPML_NS)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def to_wpml_kmz(sortie: Sortie, nest: Nest, *, options: WpmlOptions | None = None) -> bytes:
    """Package a sortie as a DJI WPML ``.kmz`` so a DJI dock can fly it (FlightHub 2, Cloud API).

    Photos are taken every ``trigger_spacing_m`` from each survey start to its survey end
    (a ``multipleDistance`` action group), with the gimbal turned to nadir at the first point.
    """
    opts = options or WpmlOptions()
    plan = _plan(sortie)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as kmz:
        for path, root in (
            (TEMPLATE_PATH, _template_kml(sortie, plan, nest, opts)),
            (WAYLINES_PATH, _waylines_wpml(sortie, plan, nest, opts)),
        ):
            info = zipfile.ZipInfo(path, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            kmz.writestr(info, _xml_bytes(root))
    return buf.getvalue()
