"""How well a schedule keeps cells within their revisit targets, and what the fleet could do.

*Required visits* follow a deadline chain per cell: the first deadline is the last sighting
before the horizon plus the target; a visit on or before a deadline meets it and restarts the
chain from that visit (the latest such one); a missed deadline counts as required and unmet,
and the chain continues from the next visit (or from the missed deadline if none comes). So a
cell seen every target interval meets all its deadlines, and one never seen misses
``floor(horizon / target)``-ish of them. *Worst revisit gap* is the longest stretch without a
visit, counting from the last sighting before the horizon to its end.

The *capacity bound* compares the area rate the targets demand (Σ area / target, daytime-only
classes squeezed into the daytime share) with the fleet's ideal imaging rate (swath × cruise
speed × the share of time a drone can be airborne between charges) — an upper bound ignoring
transits and turns, so a ratio above 1 proves the targets infeasible by at least that factor —
and with the rate of the planned sorties themselves (overheads included).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from missions.fleet.profiles import DroneProfile, Nest, NestStatus
from missions.geo.layers import PriorityClass

__all__ = [
    "CapacityBound",
    "ClassMetrics",
    "capacity_bound",
    "class_metrics",
    "deadline_chain",
    "ideal_rate_m2_per_s",
]

FloatArray = NDArray[np.float64]


def deadline_chain(
    last_s: float, visits: Sequence[float], target_s: float, horizon_s: float
) -> tuple[int, int, float]:
    """(required, met, worst gap) of one cell; times in seconds from the horizon's start."""
    required = met = 0
    vs = sorted(visits)
    worst = max((b - a for a, b in zip([last_s, *vs], [*vs, horizon_s], strict=True)), default=0.0)
    i, last = 0, last_s
    while last + target_s <= horizon_s:
        deadline = last + target_s
        required += 1
        j = i
        while j < len(vs) and vs[j] <= deadline:
            j += 1
        if j > i:
            met += 1
            last, i = vs[j - 1], j
        elif i < len(vs):
            last, i = vs[i], i + 1
        else:
            last = deadline
    return required, met, worst


@dataclass(frozen=True)
class ClassMetrics:
    priority: PriorityClass
    cells: int
    required_visits: int
    met_visits: int
    worst_gap_s: float
    planned_visits: int

    @property
    def fraction_met(self) -> float:
        return self.met_visits / self.required_visits if self.required_visits else 1.0


def class_metrics(
    *,
    priority: NDArray[np.object_],
    revisit_s: FloatArray,
    last_seen_s: FloatArray,
    visits: Sequence[Sequence[float]],
    horizon_s: float,
) -> dict[PriorityClass, ClassMetrics]:
    """Per priority class: required and met visits, worst gap, planned visits."""
    out = {}
    for cls in PriorityClass:
        idx = np.flatnonzero(priority == cls)
        req = met = planned = 0
        worst = 0.0
        for i in idx.tolist():
            r, m, w = deadline_chain(
                float(last_seen_s[i]), visits[i], float(revisit_s[i]), horizon_s
            )
            req, met, worst, planned = req + r, met + m, max(worst, w), planned + len(visits[i])
        out[cls] = ClassMetrics(cls, len(idx), req, met, worst, planned)
    return out


@dataclass(frozen=True)
class CapacityBound:
    """Area rates in m² per second: what the targets demand and what the fleet can image.

    ``fleet_m2_per_s`` is the ideal rate (swath × cruise × airborne share, no overheads): an
    upper bound. ``planned_fleet_m2_per_s`` is the rate of the planned sorties themselves
    (their area over flight plus recharge time, transits and turns included): what a perfect
    scheduler could reach with them. Daytime-only classes must fit in the daytime share.
    """

    demand_m2_per_s: float
    daytime_demand_m2_per_s: float
    fleet_m2_per_s: float
    planned_fleet_m2_per_s: float
    daytime_fraction: float

    def _ratio(self, fleet: float) -> float:
        if fleet <= 0:
            return float("inf")
        day = self.daytime_demand_m2_per_s / (fleet * max(self.daytime_fraction, 1e-9))
        return max(self.demand_m2_per_s / fleet, day)

    @property
    def ratio(self) -> float:
        """Demand over the ideal capacity: above 1, no schedule can meet all targets."""
        return self._ratio(self.fleet_m2_per_s)

    @property
    def planned_ratio(self) -> float:
        """Demand over the planned sorties' capacity: above 1, these sorties cannot."""
        return self._ratio(self.planned_fleet_m2_per_s)


def ideal_rate_m2_per_s(profile: DroneProfile, swath_m: float) -> float:
    """One drone's ideal imaging rate: swath × cruise × the airborne share between charges."""
    duty = profile.plannable_s / (profile.plannable_s + profile.charge_time_s)
    return swath_m * profile.cruise_speed_mps * duty


def capacity_bound(
    *,
    nests: Sequence[Nest],
    swath_m: float,
    area_m2: FloatArray,
    revisit_s: FloatArray,
    daytime_only: NDArray[np.bool_],
    daytime_fraction: float,
    planned_fleet_m2_per_s: float,
) -> CapacityBound:
    """Capacity bound of a fleet for cells with these areas, targets and daytime limits."""
    fleet = sum(
        ideal_rate_m2_per_s(n.profile, swath_m) for n in nests if n.status is not NestStatus.OFFLINE
    )
    rate = area_m2 / revisit_s
    return CapacityBound(
        demand_m2_per_s=float(np.sum(rate)),
        daytime_demand_m2_per_s=float(np.sum(rate[daytime_only])),
        fleet_m2_per_s=fleet,
        planned_fleet_m2_per_s=planned_fleet_m2_per_s,
        daytime_fraction=daytime_fraction,
    )
