"""Make-up sorties: cells a flight missed, re-packed for their nest and validated.

The patrol controller hands back the cells an early-ended flight did not image; this turns
them into one or more flyable sorties (split in halves along their longer extent until each
fits the battery) that avoid every no-fly zone active in the next hours, since the launch may
slip; each is checked by :func:`~missions.planning.validate.validate_sortie`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
from numpy.typing import NDArray

from missions.planning.builder import SortieRequest, build_sortie
from missions.planning.errors import PlanningError
from missions.planning.fleetplan import FleetPlan
from missions.planning.nofly import active_zones, obstacle_union
from missions.planning.sortie import Sortie
from missions.planning.transit import TransitPlanner
from missions.planning.validate import validate_sortie

__all__ = ["MakeUpSorties"]

_SLIP_S = 12 * 3600.0  # zones active this long after the hand-back are avoided too
_MAX_DEPTH = 6  # at most 2**6 pieces; more means the cells are out of this nest's range


class MakeUpSorties:
    """Builds make-up sorties against a fleet plan (its cells, nests, survey and transit)."""

    def __init__(self, plan: FleetPlan) -> None:
        self._plan = plan
        self._index = {str(c): i for i, c in enumerate(plan.cells.ids)}
        self._nests = {n.nest_id: i for i, n in enumerate(plan.nests)}
        self._serial = itertools.count(1)
        self._transit: dict[tuple[int, ...], TransitPlanner] = {}

    def _transit_after(self, after: datetime) -> TransitPlanner:
        """Around every zone active in the hours after ``after`` (the launch may slip)."""
        zones = active_zones(
            self._plan.zones,
            start=after,
            end=after + timedelta(seconds=_SLIP_S),
            tz=self._plan.tz,
            max_altitude_m=self._plan.survey.altitude_m,
        )
        key = tuple(sorted(self._plan.zones.index(z) for z in zones))
        if key not in self._transit:
            self._transit[key] = TransitPlanner(obstacle_union(zones, self._plan.margin_m))
        return self._transit[key]

    def make_up(self, nest_id: str, cell_ids: Sequence[str], after: datetime) -> list[Sortie]:
        if nest_id not in self._nests:
            raise PlanningError(f"nest {nest_id!r} is not in the plan; re-plan with it loaded")
        idx = np.array(sorted({self._index[c] for c in cell_ids if c in self._index}))
        if len(idx) == 0:
            return []
        return self._pieces(self._nests[nest_id], idx, after, 0)

    def _pieces(
        self, nest_i: int, idx: NDArray[np.int64], after: datetime, depth: int
    ) -> list[Sortie]:
        plan = self._plan
        nest = plan.nests[nest_i]
        sortie = build_sortie(
            SortieRequest(
                sortie_id=f"{nest.nest_id}-makeup-{next(self._serial)}",
                nest=nest,
                nest_xy=plan.nests_xy[nest_i],
                area=plan.cells.union(idx),
                cell_ids=tuple(str(c) for c in plan.cells.ids[idx]),
                planned_start=after,
            ),
            survey=plan.survey,
            transit=self._transit_after(after),
            frame=plan.frame,
        )
        if sortie.estimated_duration_s <= nest.profile.plannable_s:
            validate_sortie(sortie, nest=nest, frame=plan.frame, zones=plan.zones, tz=plan.tz)
            return [sortie]
        if len(idx) == 1 or depth >= _MAX_DEPTH:
            return []  # out of reach of one battery from this nest: left to the next plan
        xy = plan.cells.centroids[idx]
        axis = int(np.argmax(xy.max(axis=0) - xy.min(axis=0)))
        order = idx[np.argsort(xy[:, axis], kind="stable")]
        half = len(order) // 2
        return self._pieces(nest_i, order[:half], after, depth + 1) + self._pieces(
            nest_i, order[half:], after, depth + 1
        )
