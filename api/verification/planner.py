"""Plan a verification flight: the nest that gets there first, and a small validated sortie.

The fleet's fixed parts (nests, no-fly zones, transit graph) are built without the unit grid's
cells: a verification needs no cell assignment, and loading ~50,000 cells per handled ticket
would cost seconds. The rapid responder ranks the nests (range, battery, scheduled sorties,
no-fly-aware path); the first whose sortie over the square passes every safety check wins.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import shapely
from pyproj import CRS
from sqlalchemy import Engine

from api.verification.config import VerificationConfig
from missions.errors import MissionsError
from missions.fleet import Nest
from missions.geo.crs import utm_crs_for
from missions.geo.layers import LayerKind
from missions.planning.builder import SortieRequest, build_sortie
from missions.planning.cells import CellTable
from missions.planning.errors import PlanningError
from missions.planning.fleetplan import FleetPlan, base_plan
from missions.planning.frame import MetricFrame
from missions.planning.nofly import zones_from_frame
from missions.planning.respond import RapidResponder, ResponseOption
from missions.planning.sortie import Sortie
from missions.planning.validate import SafetyLimits, validate_sortie
from missions.storage import load_grid_info, load_layer, load_nests
from missions.storage.models import SortieRow
from missions.storage.sorties import load_sorties

__all__ = [
    "VERIFICATION_PRIORITY",
    "PlannedFlight",
    "Unplanned",
    "plan_verification",
    "sortie_row",
    "verification_area",
]

#: the ``priority`` label of verification sorties in the ``sorties`` table
VERIFICATION_PRIORITY = "verification"


@dataclass(frozen=True)
class PlannedFlight:
    """A flyable verification: the nest's option (ETA, path) and its validated sortie."""

    option: ResponseOption
    sortie: Sortie


@dataclass(frozen=True)
class Unplanned:
    """No drone can fly it; ``reason`` says why (an officer verifies on site instead)."""

    reason: str


def verification_area(lon: float, lat: float, side_m: float) -> shapely.Polygon:
    """The WGS-84 square of ``side_m`` (in the point's UTM zone) centred on (lon, lat)."""
    frame = MetricFrame(utm_crs_for(lon, lat))
    x, y = frame.point(lon, lat)
    half = side_m / 2.0
    box = shapely.box(x - half, y - half, x + half, y + half)
    return shapely.Polygon(frame.to_wgs84(np.asarray(box.exterior.coords)))


def plan_verification(
    engine: Engine,
    *,
    lon: float,
    lat: float,
    area: shapely.Polygon,
    start: datetime,
    ticket_id: int,
    config: VerificationConfig,
) -> PlannedFlight | Unplanned:
    """The best flyable verification of ``area`` (WGS-84, around (lon, lat)) from ``start``."""
    crs = _crs(engine, lon, lat)
    frame = MetricFrame(crs)
    box = shapely.transform(area, lambda xy: frame.to_metric(xy[:, 0], xy[:, 1]))
    try:
        plan = _plan(engine, crs, config)
    except MissionsError as e:
        return Unplanned(f"no fleet to plan with: {e}")
    responder = RapidResponder(plan, sorties=load_sorties(engine))
    response = responder.respond(lon=lon, lat=lat, at=start)
    if not response.options:
        return Unplanned(response.reason or "no nest can reach the place")
    transit = responder.transit_at(start)
    nests = {n.nest_id: (n, xy) for n, xy in zip(plan.nests, plan.nests_xy, strict=True)}
    refused = []
    for option in response.options:
        nest, nest_xy = nests[option.nest_id]
        request = SortieRequest(
            sortie_id=f"verify-{ticket_id}-{uuid.uuid4().hex[:8]}",
            nest=nest,
            nest_xy=nest_xy,
            area=box,
            planned_start=start,
        )
        try:
            sortie = build_sortie(request, survey=plan.survey, transit=transit, frame=frame)
            _validate(sortie, nest, plan, config)
        except PlanningError as e:
            refused.append(f"{nest.nest_id}: {e}")
            continue
        return PlannedFlight(option, sortie)
    return Unplanned("no nest's sortie passed the safety checks: " + "; ".join(refused))


def sortie_row(sortie: Sortie, *, now: datetime) -> SortieRow:
    """The stored form of a verification sortie (as :func:`save_sorties` writes a schedule)."""
    return SortieRow(
        sortie_id=sortie.sortie_id,
        nest_id=sortie.nest_id,
        priority=VERIFICATION_PRIORITY,
        planned_start=sortie.planned_start,
        duration_s=sortie.estimated_duration_s,
        cell_ids=list(sortie.cell_ids),
        waypoints=[{**dataclasses.asdict(w), "action": w.action.value} for w in sortie.waypoints],
        created_at=now,
        geom=shapely.LineString([(w.lon, w.lat) for w in sortie.waypoints]),
    )


def _crs(engine: Engine, lon: float, lat: float) -> CRS:
    info = load_grid_info(engine)
    return CRS.from_epsg(info.crs_epsg) if info is not None else utm_crs_for(lon, lat)


def _plan(engine: Engine, crs: CRS, config: VerificationConfig) -> FleetPlan:
    nests: list[Nest] = load_nests(engine)
    if not nests:
        raise PlanningError("no nests in the database; load some (e.g. `nestpatrol init --demo`)")
    zones = zones_from_frame(load_layer(engine, LayerKind.NOFLY), crs)
    no_cells = CellTable(
        ids=np.array([], dtype=str),
        geoms=np.array([], dtype=object),
        centroids=np.zeros((0, 2)),
        area_m2=np.zeros(0),
        priority=np.array([], dtype=object),
        revisit_s=np.zeros(0),
    )
    return base_plan(cells=no_cells, nests=nests, frame=MetricFrame(crs), zones=zones, tz=config.tz)


def _validate(sortie: Sortie, nest: Nest, plan: FleetPlan, config: VerificationConfig) -> None:
    validate_sortie(
        sortie,
        nest=nest,
        frame=plan.frame,
        zones=plan.zones,
        tz=plan.tz,
        limits=SafetyLimits(ceiling_m=config.ceiling_m),
    )
