"""Flight safety as an invariant: every sortie is checked before export, upload or scheduling.

The checks are independent of how the sortie was planned (they re-derive everything from the
waypoints), so a planner bug cannot slip through: waypoints and legs outside no-fly zones that
are active during the flight (a zone counts when its floor–ceiling band meets anything between
the ground and the leg's altitude: a return-to-home or emergency descent can happen anywhere),
altitude under the ceiling, battery time within capacity minus reserve, first waypoint at the
nest and last a
landing at the nest. The first violation raises :class:`SafetyViolation` naming the sortie, the
waypoint index and the rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

import numpy as np
import shapely

from missions.fleet.profiles import Nest
from missions.planning.camera import DEFAULT_CEILING_M
from missions.planning.energy import flight_time_s
from missions.planning.errors import SafetyRule, SafetyViolation
from missions.planning.frame import MetricFrame
from missions.planning.nofly import NoFlyZone
from missions.planning.sortie import Sortie, WaypointAction

__all__ = ["SafetyLimits", "validate_sortie", "validate_sorties"]


@dataclass(frozen=True)
class SafetyLimits:
    ceiling_m: float = DEFAULT_CEILING_M  # above ground (flat ground at the nest assumed)
    nest_tolerance_m: float = 2.0  # how far the first/last waypoint may be from the nest


def _fail(sortie: Sortie, index: int | None, rule: SafetyRule, detail: str, fix: str) -> None:
    raise SafetyViolation(
        sortie_id=sortie.sortie_id, waypoint_index=index, rule=rule, detail=detail, fix=fix
    )


def _check_ends(sortie: Sortie, xy: np.ndarray, nest_xy: tuple[float, float], tol: float) -> None:
    if len(sortie.waypoints) < 2:
        _fail(sortie, None, SafetyRule.EMPTY, "fewer than two waypoints", "re-plan the sortie")
    d0 = math.dist(xy[0], nest_xy)
    if d0 > tol:
        _fail(
            sortie,
            0,
            SafetyRule.START_AT_NEST,
            f"starts {d0:.1f} m from nest {sortie.nest_id}",
            "start the sortie with a take-off at its nest",
        )
    last = len(xy) - 1
    d1 = math.dist(xy[last], nest_xy)
    if sortie.waypoints[last].action is not WaypointAction.LAND or d1 > tol:
        _fail(
            sortie,
            last,
            SafetyRule.END_AT_NEST,
            f"ends {d1:.1f} m from nest {sortie.nest_id} "
            f"with action {sortie.waypoints[last].action.value}",
            "end with a landing at the nest",
        )


def _check_altitude(sortie: Sortie, ceiling_m: float) -> None:
    for i, wp in enumerate(sortie.waypoints):
        if wp.alt_m > ceiling_m + 1e-6:
            _fail(
                sortie,
                i,
                SafetyRule.ALTITUDE_CEILING,
                f"altitude {wp.alt_m:.1f} m is above the {ceiling_m:.0f} m ceiling",
                f"fly at or below {ceiling_m:.0f} m",
            )


def _check_nofly(sortie: Sortie, xy: np.ndarray, zones: Sequence[NoFlyZone], tz: ZoneInfo) -> None:
    alt = np.array([wp.alt_m for wp in sortie.waypoints])
    start = sortie.planned_start
    end = start + timedelta(seconds=sortie.estimated_duration_s) if start else None
    points = shapely.points(xy)
    legs = shapely.linestrings(np.stack([xy[:-1], xy[1:]], axis=1)) if len(xy) > 1 else None
    for z in zones:
        if start is not None and end is not None and not z.active_during(start, end, tz):
            continue
        inside = shapely.intersects(points, z.geometry)
        for i in np.flatnonzero(inside):
            if z.blocks_altitudes(0.0, float(alt[i])):
                _fail(
                    sortie,
                    int(i),
                    SafetyRule.NOFLY_WAYPOINT,
                    f"waypoint inside no-fly zone {z.name!r}",
                    "re-plan with this zone active at the planned time",
                )
        if legs is None:
            continue
        hit = shapely.intersects(legs, z.geometry)
        for i in np.flatnonzero(hit):
            if z.blocks_altitudes(0.0, float(max(alt[i], alt[i + 1]))):
                _fail(
                    sortie,
                    int(i) + 1,
                    SafetyRule.NOFLY_LEG,
                    f"the leg to this waypoint crosses no-fly zone {z.name!r}",
                    "route the transit around the zone",
                )


def _check_energy(sortie: Sortie, nest: Nest, xy: np.ndarray) -> None:
    speeds = np.array([wp.speed_mps for wp in sortie.waypoints])
    altitude = max((wp.alt_m for wp in sortie.waypoints), default=0.0)
    need = flight_time_s(nest.profile, xy, speeds, altitude)
    if need > nest.profile.plannable_s + 1e-6:
        _fail(
            sortie,
            None,
            SafetyRule.ENERGY,
            f"needs {need:.0f} s of flight, more than the "
            f"{nest.profile.plannable_s:.0f} s usable minus reserve",
            "split the sortie",
        )


def validate_sortie(
    sortie: Sortie,
    *,
    nest: Nest,
    frame: MetricFrame,
    zones: Sequence[NoFlyZone] = (),
    tz: ZoneInfo,
    limits: SafetyLimits | None = None,
) -> None:
    """Raise :class:`SafetyViolation` at the first broken rule; return quietly otherwise.

    Zones count when active at any moment of [planned_start, planned_end]; a sortie without a
    start time must avoid every zone (it could be flown at any time).
    """
    lim = limits or SafetyLimits()
    if sortie.nest_id != nest.nest_id:
        _fail(
            sortie,
            None,
            SafetyRule.START_AT_NEST,
            f"belongs to nest {sortie.nest_id}, checked against {nest.nest_id}",
            "validate against the sortie's own nest",
        )
    if not sortie.waypoints:
        _fail(sortie, None, SafetyRule.EMPTY, "no waypoints", "re-plan the sortie")
    lonlat = np.array([(wp.lon, wp.lat) for wp in sortie.waypoints], dtype=float)
    xy = frame.to_metric(lonlat[:, 0], lonlat[:, 1])
    _check_ends(sortie, xy, frame.point(nest.lon, nest.lat), lim.nest_tolerance_m)
    _check_altitude(sortie, lim.ceiling_m)
    _check_nofly(sortie, xy, zones, tz)
    _check_energy(sortie, nest, xy)


def validate_sorties(
    sorties: Sequence[Sortie],
    *,
    nests: Sequence[Nest],
    frame: MetricFrame,
    zones: Sequence[NoFlyZone] = (),
    tz: ZoneInfo,
    limits: SafetyLimits | None = None,
) -> None:
    """Validate many sorties (each against its own nest)."""
    by_id = {n.nest_id: n for n in nests}
    for s in sorties:
        nest = by_id.get(s.nest_id)
        if nest is None:
            _fail(
                s,
                None,
                SafetyRule.START_AT_NEST,
                f"unknown nest {s.nest_id!r}",
                "add the nest or fix the sortie's nest id",
            )
            continue
        validate_sortie(s, nest=nest, frame=frame, zones=zones, tz=tz, limits=limits)
