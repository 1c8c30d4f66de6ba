"""Turn a coverage path into a flyable sortie: nest → survey lines → nest, around no-fly zones.

Every leg that is not a survey line (nest to the first line, line to line, last line to nest)
is routed by the :class:`~missions.planning.transit.TransitPlanner`, so transits bend around
active no-fly zones instead of crossing them; survey lines were already clipped by them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import shapely
from numpy.typing import NDArray

from missions.fleet.profiles import Nest
from missions.planning.camera import SurveySettings
from missions.planning.coverage import CoveragePath, SweepCost, plan_coverage
from missions.planning.energy import flight_time_s
from missions.planning.errors import PlanningError
from missions.planning.frame import MetricFrame
from missions.planning.sortie import Sortie, Waypoint, WaypointAction
from missions.planning.transit import XY, TransitPlanner

__all__ = ["Route", "SortieRequest", "build_sortie", "fitting_sortie", "route_for", "sweep_cost"]

FloatArray = NDArray[np.float64]


@dataclass
class Route:
    """A sortie in planning metres: points with their action; legs end at point ``i``."""

    xy: list[XY] = field(default_factory=list)
    actions: list[WaypointAction] = field(default_factory=list)

    def add(self, point: XY, action: WaypointAction) -> None:
        self.xy.append((float(point[0]), float(point[1])))
        self.actions.append(action)

    def array(self) -> FloatArray:
        return np.asarray(self.xy, dtype=float)


def sweep_cost(nest: Nest, survey: SurveySettings) -> SweepCost:
    """The sweep objective for this nest's drone and camera settings."""
    return SweepCost(
        swath_spacing_m=survey.swath_spacing_m,
        speed_mps=nest.profile.cruise_speed_mps,
        turn_time_s=nest.profile.turn_time_s,
        footprint_across_m=survey.footprint.across_m,
        footprint_along_m=survey.footprint.along_m,
        trigger_spacing_m=survey.trigger_spacing_m,
    )


def route_for(path: CoveragePath, nest_xy: XY, transit: TransitPlanner) -> Route:
    """Nest → each survey line in order → nest, transits routed around the keep-out area."""
    if not path.lines:
        raise PlanningError(
            "the coverage path has no survey line (the area lies inside no-fly zones); "
            "drop those cells or check the no-fly layer"
        )
    route = Route()
    route.add(nest_xy, WaypointAction.TAKEOFF)
    at = nest_xy
    for start, end in path.lines:
        for p in transit.path(at, start)[1:-1]:
            route.add(p, WaypointAction.TRANSIT)
        route.add(start, WaypointAction.SURVEY_START)
        route.add(end, WaypointAction.SURVEY_END)
        at = end
    for p in transit.path(at, nest_xy)[1:-1]:
        route.add(p, WaypointAction.TRANSIT)
    route.add(nest_xy, WaypointAction.LAND)
    return route


@dataclass(frozen=True)
class SortieRequest:
    """What to fly: the area (metric) of ``cell_ids`` from ``nest`` at ``nest_xy``."""

    sortie_id: str
    nest: Nest
    nest_xy: XY
    area: shapely.Geometry
    cell_ids: tuple[str, ...] = ()
    planned_start: datetime | None = None
    angle_rad: float | None = None


def build_sortie(
    request: SortieRequest, *, survey: SurveySettings, transit: TransitPlanner, frame: MetricFrame
) -> Sortie:
    """A sortie covering ``request.area``; its estimated duration uses the energy model."""
    profile = request.nest.profile
    path = plan_coverage(
        request.area,
        cost=sweep_cost(request.nest, survey),
        start=request.nest_xy,
        keep_out=transit.keep_out,
        angle_rad=request.angle_rad,
    )
    route = route_for(path, request.nest_xy, transit)
    xy = route.array()
    speeds = np.full(len(xy), profile.cruise_speed_mps)
    duration = flight_time_s(profile, xy, speeds, survey.altitude_m)
    lonlat = frame.to_wgs84(xy)
    waypoints = []
    for (lon, lat), action, speed in zip(lonlat, route.actions, speeds, strict=True):
        waypoints.append(
            Waypoint(
                lon=float(lon),
                lat=float(lat),
                alt_m=0.0 if action is WaypointAction.LAND else survey.altitude_m,
                speed_mps=float(speed),
                action=action,
                trigger_spacing_m=(
                    survey.trigger_spacing_m if action is WaypointAction.SURVEY_START else None
                ),
            )
        )
    return Sortie(
        sortie_id=request.sortie_id,
        nest_id=request.nest.nest_id,
        waypoints=waypoints,
        cell_ids=list(request.cell_ids),
        estimated_duration_s=duration,
        planned_start=request.planned_start,
    )


def fitting_sortie(
    request: SortieRequest, *, survey: SurveySettings, transit: TransitPlanner, frame: MetricFrame
) -> Sortie | None:
    """:func:`build_sortie`, or None when the area cannot be flown or the sortie does not fit
    the nest's plannable time (the caller splits the area or leaves it)."""
    try:
        sortie = build_sortie(request, survey=survey, transit=transit, frame=frame)
    except PlanningError:
        return None
    return sortie if sortie.estimated_duration_s <= request.nest.profile.plannable_s else None
