"""Cells → nests: the reachable nest with the shortest no-fly-aware distance, load-balanced.

A cell is reachable from a nest when a round trip to it (take-off, out and back at cruise,
landing) plus a minimal survey fits the drone's plannable time and the cell lies within the
operating radius. Among reachable nests, each cell goes to the one minimising distance plus a
per-nest offset; the offsets are adjusted (a few dozen rounds of a price update, as in
capacity-constrained Voronoi partitions) until the demand — area × visits per day — is spread
evenly, so that no nest is swamped while its neighbour idles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from missions.fleet.profiles import Nest, NestStatus
from missions.planning.energy import round_trip_s
from missions.planning.transit import XY, TransitPlanner

__all__ = ["AssignConfig", "assign_cells", "reach_distances", "reachable"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class AssignConfig:
    """Knobs of the assignment; the defaults suit 100 m cells and 10–20 nests."""

    altitude_m: float = 120.0
    min_survey_s: float = 120.0  # a sortie must have time to image something
    balance_rounds: int = 40
    price_step_m: float = 400.0  # first offset change for a nest 100 % over the mean load
    max_offset_m: float = 4000.0


def reach_distances(
    nests_xy: Sequence[XY], centroids: FloatArray, transit: TransitPlanner
) -> FloatArray:
    """No-fly-aware distance from each nest (rows) to each cell centroid (columns)."""
    return np.vstack([transit.distances_from(xy, centroids) for xy in nests_xy])


def reachable(nests: Sequence[Nest], dist: FloatArray, config: AssignConfig) -> NDArray[np.bool_]:
    """Which cells (columns) each nest (rows) can fly a minimal survey of within one battery."""
    ok = np.zeros(dist.shape, dtype=bool)
    for i, nest in enumerate(nests):
        if nest.status is NestStatus.OFFLINE:
            continue
        p = nest.profile
        fixed = round_trip_s(p, 0.0, config.altitude_m) + config.min_survey_s
        max_d = max(0.0, (p.plannable_s - fixed) * p.cruise_speed_mps / 2.0)
        ok[i] = (dist[i] <= min(max_d, p.max_radius_m)) & np.isfinite(dist[i])
    return ok


def assign_cells(
    *,
    nests: Sequence[Nest],
    dist: FloatArray,
    demand: FloatArray,
    config: AssignConfig | None = None,
) -> IntArray:
    """Index of the nest each cell is assigned to (-1: no nest can reach it).

    ``dist`` is :func:`reach_distances`; ``demand`` the work a cell brings (e.g. area × visits a
    day). Balancing moves border cells only: a cell never goes to a nest that cannot reach it.
    """
    cfg = config or AssignConfig()
    ok = reachable(nests, dist, cfg)
    n_nests, n_cells = dist.shape
    out = np.full(n_cells, -1, dtype=np.int64)
    any_ok = ok.any(axis=0)
    if not any_ok.any():
        return out
    cost = np.where(ok, dist, math.inf)[:, any_ok]
    d = demand[any_ok]
    offset = np.zeros(n_nests)
    active = ok.any(axis=1)
    best, best_spread = np.argmin(cost, axis=0), math.inf
    for r in range(cfg.balance_rounds):
        pick = np.argmin(cost + offset[:, None], axis=0)
        load = np.bincount(pick, weights=d, minlength=n_nests)
        mean = load[active].mean()
        spread = float(load[active].max() / mean) if mean > 0 else 1.0
        if spread < best_spread:
            best, best_spread = pick, spread
        step = cfg.price_step_m / (1.0 + r / 5.0)
        offset[active] += step * (load[active] / mean - 1.0)
        offset = np.clip(offset, -cfg.max_offset_m, cfg.max_offset_m)
    out[any_ok] = best
    return out
