"""Rapid-response requests for a simulated day: reported points in the core area, answered by
the planner (nearest able nest, ETA) with a small validated sortie over the point."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import shapely

from missions.geo.layers import PriorityClass
from missions.planning.builder import SortieRequest, build_sortie
from missions.planning.fleetplan import FleetPlan
from missions.planning.respond import RapidResponder
from missions.planning.sortie import Sortie
from missions.planning.validate import validate_sortie
from patrol.controller import RapidRequest

__all__ = ["RapidOutcome", "rapid_requests"]

_LOOK_M = 60.0  # side of the square imaged over a reported point


@dataclass(frozen=True)
class RapidOutcome:
    requests: list[RapidRequest]
    refused: list[tuple[datetime, str]]  # requests no nest could take, with the reason


def rapid_requests(
    plan: FleetPlan,
    sorties: list[Sortie],
    *,
    start: datetime,
    hours: float,
    count: int,
    seed: int,
) -> RapidOutcome:
    """``count`` reports at uniform random times and core-cell points, answered by the planner."""
    rng = np.random.default_rng(seed + 7919)
    core = np.flatnonzero(plan.cells.priority == PriorityClass.CORE)
    if count <= 0 or len(core) == 0:
        return RapidOutcome([], [])
    responder = RapidResponder(plan, sorties=sorties)
    requests: list[RapidRequest] = []
    refused: list[tuple[datetime, str]] = []
    times = sorted(rng.uniform(0.05, 0.95, count) * hours * 3600.0)
    for k, offset in enumerate(times):
        at = start + timedelta(seconds=float(offset))
        x, y = plan.cells.centroids[int(rng.choice(core))]
        lon, lat = plan.frame.to_wgs84(np.array([[x, y]]))[0]
        answer = responder.respond(lon=float(lon), lat=float(lat), at=at)
        if answer.best is None:
            refused.append((at, answer.reason))
            continue
        i = next(i for i, n in enumerate(plan.nests) if n.nest_id == answer.best.nest_id)
        nest = plan.nests[i]
        sortie = build_sortie(
            SortieRequest(
                sortie_id=f"rapid-{k + 1:03d}",
                nest=nest,
                nest_xy=plan.nests_xy[i],
                area=shapely.box(
                    x - _LOOK_M / 2, y - _LOOK_M / 2, x + _LOOK_M / 2, y + _LOOK_M / 2
                ),
                planned_start=at,
            ),
            survey=plan.survey,
            transit=plan.transit,
            frame=plan.frame,
        )
        validate_sortie(sortie, nest=nest, frame=plan.frame, zones=plan.zones, tz=plan.tz)
        requests.append(RapidRequest(sortie.sortie_id, at, sortie, eta_s=answer.best.eta_s))
    return RapidOutcome(requests, refused)
