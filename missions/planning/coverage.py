"""Coverage paths: boustrophedon over a set of cells at the sweep angle that flies fastest.

Chain of stages (after Fields2Cover): :mod:`~missions.planning.swaths` makes lines and blocks at
an angle; :func:`best_sweep_angle` picks the angle by the flight-time cost :func:`sweep_time_s`
(turns cost time, so fewer, longer lines win); :func:`plan_coverage` orders the blocks with a
2-opt TSP heuristic and picks each block's entry corner by dynamic programming. Everything is in
the metric planning CRS. Connections between lines are straight here; the sortie builder routes
any that would cross a no-fly zone (:mod:`~missions.planning.transit`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from missions.planning.errors import PlanningError
from missions.planning.swaths import Block, Frame, Lines, area_edges, blocks_for, sweep_lines
from missions.planning.sweepcost import SweepCost, angle_grid, sweep_costs
from missions.planning.transit import XY

__all__ = [
    "CoveragePath",
    "SweepCost",
    "best_sweep_angle",
    "order_points_2opt",
    "plan_coverage",
    "sweep_time_s",
]

FloatArray = NDArray[np.float64]
_REFINE_LEVELS = 4
_REFINE_TOP = 4


@dataclass(frozen=True)
class CoveragePath:
    """Survey lines in flight order, in the planning CRS; between them the drone transits."""

    angle_rad: float
    lines: tuple[tuple[XY, XY], ...]

    @property
    def survey_length_m(self) -> float:
        return float(sum(math.dist(a, b) for a, b in self.lines))


def _prepare(area: shapely.Geometry, keep_out: shapely.Geometry | None) -> shapely.Geometry | None:
    """The part of the keep-out area near ``area`` (None when there is none)."""
    if keep_out is None or shapely.is_empty(keep_out):
        return None
    near = shapely.clip_by_rect(keep_out, *shapely.bounds(shapely.buffer(area, 1.0)))
    return None if shapely.is_empty(near) else near


class _Sweeper:
    """The area's edges, computed once, swept at any angle."""

    def __init__(
        self, area: shapely.Geometry, spacing_m: float, keep_out: shapely.Geometry | None
    ) -> None:
        c = shapely.centroid(area)
        self.origin = (float(c.x), float(c.y))
        self.edges = area_edges(area)
        self.spacing_m = spacing_m
        self.keep_out = keep_out

    def lines(self, angle_rad: float) -> tuple[Frame, Lines]:
        frame = Frame(angle_rad, self.origin)
        ko = None if self.keep_out is None else frame.geometry_to_sweep(self.keep_out)
        return frame, sweep_lines(self.edges, frame, self.spacing_m, ko)

    def costs(self, angles: list[float], cost: SweepCost) -> list[float]:
        """Objective per angle, batched; the keep-out area is not cut out here (see below)."""
        if not angles:
            return []
        return [float(c) for c in sweep_costs(self.edges, self.origin, np.array(angles), cost)]


def sweep_time_s(
    area: shapely.Geometry,
    angle_rad: float,
    *,
    cost: SweepCost,
) -> float:
    """Estimated time to survey ``area`` with lines at ``angle_rad`` (the angle-search objective).

    Survey and connection lengths at survey speed (a line change costs the mean of its two
    possible sides), two turns per line change, and per extra block a hop of one swath with two
    turns (the exact hops depend on the later ordering). No-fly zones are not cut out: they are
    small against a sortie's area, and cutting them per angle would cost ten times more; the
    path itself (:func:`plan_coverage`) does cut them out.
    """
    return _Sweeper(area, cost.swath_spacing_m, None).costs([angle_rad % math.pi], cost)[0]


def _edge_angles(area: shapely.Geometry) -> list[float]:
    """Directions of the longest edges of the convex hull: the usual optimum for convex parts."""
    hull = shapely.convex_hull(area)
    if shapely.get_type_id(hull) != 3:
        return []
    xy = shapely.get_coordinates(hull)
    d = np.diff(xy, axis=0)
    lengths = np.hypot(d[:, 0], d[:, 1])
    order = np.argsort(-lengths)[:8]
    return [float(math.atan2(d[i, 1], d[i, 0]) % math.pi) for i in order]


def best_sweep_angle(area: shapely.Geometry, *, cost: SweepCost) -> float:
    """The sweep angle (radians, in [0, π)) with the lowest :func:`sweep_time_s`.

    A coarse grid plus the hull's edge directions, then repeated halving of the step around the
    best few candidates: the objective is piecewise (line counts jump), so no gradient is used.
    """
    sweeper = _Sweeper(area, cost.swath_spacing_m, None)
    seen: dict[float, float] = {}

    def evaluate(angles: list[float]) -> None:
        fresh = sorted({a % math.pi for a in angles} - seen.keys())
        seen.update(zip(fresh, sweeper.costs(fresh, cost), strict=True))

    step = math.radians(cost.angle_step_deg)
    evaluate([*angle_grid(cost.angle_step_deg).tolist(), math.pi / 2, *_edge_angles(area)])
    for _ in range(_REFINE_LEVELS):
        step /= 2.0
        best = sorted(seen, key=seen.__getitem__)[:_REFINE_TOP]
        evaluate([a + d for a in best for d in (-step, step)])
    return min(seen, key=lambda a: (seen[a], a))


def order_points_2opt(points: FloatArray, start: XY, end: XY) -> list[int]:
    """Visiting order of ``points`` from ``start`` to ``end``: nearest neighbour, then 2-opt."""
    n = len(points)
    if n <= 1:
        return list(range(n))
    allp = np.vstack([np.asarray(start), points, np.asarray(end)])
    dist = np.hypot(*(allp[:, None, :] - allp[None, :, :]).transpose(2, 0, 1))
    left, tour, at = set(range(1, n + 1)), [0], 0
    while left:
        at = min(left, key=lambda j: dist[at, j])
        tour.append(at)
        left.remove(at)
    tour.append(n + 1)
    improved = True
    while improved:
        improved = False
        for i in range(1, n):
            for j in range(i + 1, n + 1):
                a, b, c, d = tour[i - 1], tour[i], tour[j], tour[j + 1]
                if dist[a, c] + dist[b, d] < dist[a, b] + dist[c, d] - 1e-9:
                    tour[i : j + 1] = tour[i : j + 1][::-1]
                    improved = True
    return [t - 1 for t in tour[1:-1]]


def _block_flight(block: Block, reverse: bool, left_first: bool) -> list[tuple[XY, XY]]:
    ivs = block.intervals[::-1] if reverse else block.intervals
    legs, forward = [], left_first
    for iv in ivs:
        a, b = ((iv.x0, iv.y), (iv.x1, iv.y)) if forward else ((iv.x1, iv.y), (iv.x0, iv.y))
        legs.append((a, b))
        forward = not forward
    return legs


def _world(frame: Frame, legs: list[tuple[XY, XY]]) -> list[tuple[XY, XY]]:
    w = frame.to_world(np.array([p for leg in legs for p in leg], dtype=float))
    pts = [(float(x), float(y)) for x, y in w]
    return [(pts[2 * i], pts[2 * i + 1]) for i in range(len(legs))]


def _choose_entries(options: list[list[list[tuple[XY, XY]]]], start: XY, end: XY) -> list[int]:
    """Per block, which of its entry variants minimises the hops (Viterbi over the order)."""
    cost = [math.dist(start, o[0][0]) for o in options[0]]
    back: list[list[int]] = []
    for prev, cur in itertools.pairwise(options):
        row, arg = [], []
        for o in cur:
            hops = [cost[k] + math.dist(p[-1][1], o[0][0]) for k, p in enumerate(prev)]
            k = int(np.argmin(hops))
            row.append(hops[k])
            arg.append(k)
        cost, back = row, [*back, arg]
    final = [c + math.dist(o[-1][1], end) for c, o in zip(cost, options[-1], strict=True)]
    pick = [int(np.argmin(final))]
    for arg in reversed(back):
        pick.append(arg[pick[-1]])
    return pick[::-1]


def plan_coverage(
    area: shapely.Geometry,
    *,
    cost: SweepCost,
    start: XY,
    end: XY | None = None,
    keep_out: shapely.Geometry | None = None,
    angle_rad: float | None = None,
) -> CoveragePath:
    """Survey lines covering ``area`` (metric polygon/multipolygon) from ``start`` to ``end``."""
    if area is None or shapely.is_empty(area) or shapely.area(area) <= 0:
        raise PlanningError("the area to cover is empty; give at least one cell with area")
    if not (cost.swath_spacing_m > 0 and cost.speed_mps > 0):
        raise PlanningError("swath spacing and speed must be positive; check the camera settings")
    end = start if end is None else end
    ko = _prepare(area, keep_out)
    angle = best_sweep_angle(area, cost=cost) if angle_rad is None else angle_rad
    frame, lines = _Sweeper(area, cost.swath_spacing_m, ko).lines(angle)
    blocks = blocks_for(lines.to_intervals())
    if not blocks:
        return CoveragePath(angle, ())
    variants = [
        [_world(frame, _block_flight(b, r, lf)) for r in (False, True) for lf in (True, False)]
        for b in blocks
    ]
    reps = np.array(
        [np.mean([p for leg in v[0] for p in leg], axis=0) for v in variants], dtype=float
    )
    order = order_points_2opt(reps, start, end)
    options = [variants[i] for i in order]
    pick = _choose_entries(options, start, end)
    legs = tuple(leg for o, k in zip(options, pick, strict=True) for leg in o[k])
    return CoveragePath(angle, legs)
