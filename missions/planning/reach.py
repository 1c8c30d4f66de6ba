"""The 5-minute reach map: which cells a drone can reach within the response target.

A cell is reached when some nest that is not offline has an ETA to its centre (launch overhead
plus the no-fly-aware path at maximum speed) within ``target_s``. Battery is not a limit here
(a response nest is kept in standby charge). The candidate for one more nest is the candidate
point (a lattice over the district's cells) whose disc of reach covers the most area not
reached yet — core area first when the core is not fully reached, else all area.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from missions.fleet.profiles import NestStatus
from missions.geo.layers import PriorityClass
from missions.planning.energy import takeoff_s
from missions.planning.fleetplan import FleetPlan
from missions.planning.respond import RapidResponder
from missions.planning.transit import XY

__all__ = ["ReachMap", "reach_map", "write_reach_png"]

FloatArray = NDArray[np.float64]
DEFAULT_TARGET_S = 300.0


@dataclass(frozen=True)
class ReachMap:
    target_s: float
    eta_s: FloatArray  # per cell of the plan (inf: unreachable)
    district_fraction: float  # share of the cells' area reached within target_s
    core_fraction: float  # same, over core cells (1.0 when there are none)
    candidate_xy: XY | None
    candidate_lonlat: tuple[float, float] | None
    district_fraction_with_candidate: float
    core_fraction_with_candidate: float


def _etas(plan: FleetPlan, transit_dist: list[FloatArray]) -> FloatArray:
    eta = np.full(len(plan.cells), np.inf)
    for i, d in enumerate(transit_dist):
        nest = plan.nests[i]
        if nest.status is NestStatus.OFFLINE:
            continue
        p = nest.profile
        eta = np.minimum(eta, takeoff_s(p, plan.survey.altitude_m) + d / p.max_speed_mps)
    return eta


def _fractions(plan: FleetPlan, reached: NDArray[np.bool_]) -> tuple[float, float]:
    area = plan.cells.area_m2
    core = plan.cells.priority == PriorityClass.CORE
    district = float(area[reached].sum() / area.sum())
    core_f = float(area[reached & core].sum() / area[core].sum()) if core.any() else 1.0
    return district, core_f


def reach_map(
    plan: FleetPlan,
    *,
    at: datetime | None = None,
    target_s: float = DEFAULT_TARGET_S,
    lattice_m: float = 500.0,
) -> ReachMap:
    """ETA per cell, reached fractions, and the best place for one more nest."""
    transit = RapidResponder(plan).transit_at(at) if at is not None else plan.transit
    cells = plan.cells
    dist = [transit.distances_from(xy, cells.centroids) for xy in plan.nests_xy]
    eta = _etas(plan, dist)
    reached = eta <= target_s
    district, core = _fractions(plan, reached)
    p = plan.nests[0].profile
    radius = max(0.0, (target_s - takeoff_s(p, plan.survey.altitude_m)) * p.max_speed_mps)
    is_core = cells.priority == PriorityClass.CORE
    focus = ~reached & is_core if (is_core & ~reached).any() else ~reached
    if not focus.any() or radius <= 0:
        return ReachMap(target_s, eta, district, core, None, None, district, core)
    keys = np.unique(
        np.floor(cells.centroids / lattice_m).astype(np.int64), axis=0, return_index=True
    )[1]
    cand = cells.centroids[keys]
    cand = cand[~np.array([transit.inside((float(x), float(y))) for x, y in cand])]
    tree = cKDTree(cells.centroids[focus])
    weights = cells.area_m2[focus]
    gain = np.array([weights[ix].sum() for ix in tree.query_ball_point(cand, radius)])
    best = cand[int(np.argmax(gain))]
    best_xy = (float(best[0]), float(best[1]))
    d_new = transit.distances_from(best_xy, cells.centroids)
    eta_new = np.minimum(eta, takeoff_s(p, plan.survey.altitude_m) + d_new / p.max_speed_mps)
    d2, c2 = _fractions(plan, eta_new <= target_s)
    lon, lat = plan.frame.to_wgs84(np.array([best_xy]))[0]
    return ReachMap(target_s, eta, district, core, best_xy, (float(lon), float(lat)), d2, c2)


def write_reach_png(path: Path | str, plan: FleetPlan, reach: ReachMap) -> Path:
    """A map of ETA per cell (grey beyond the target), nests and the candidate."""
    import matplotlib  # noqa: PLC0415 (heavy, only when writing)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    out = Path(path)
    c = plan.cells.centroids
    fig, ax = plt.subplots(figsize=(9, 9))
    ok = reach.eta_s <= reach.target_s
    ax.scatter(c[~ok, 0], c[~ok, 1], s=1, color="lightgrey", marker="s")
    sc = ax.scatter(c[ok, 0], c[ok, 1], s=1, c=reach.eta_s[ok], cmap="viridis_r", marker="s")
    fig.colorbar(sc, ax=ax, label="ETA (s)")
    nxy = np.array(plan.nests_xy)
    ax.scatter(nxy[:, 0], nxy[:, 1], marker="^", color="black")
    if reach.candidate_xy is not None:
        ax.scatter([reach.candidate_xy[0]], [reach.candidate_xy[1]], marker="*", s=200, color="red")
    ax.set_title(
        f"within {reach.target_s:.0f} s: district {reach.district_fraction:.1%}, "
        f"core {reach.core_fraction:.1%}; with the red star: "
        f"{reach.district_fraction_with_candidate:.1%} / {reach.core_fraction_with_candidate:.1%}"
    )
    ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
