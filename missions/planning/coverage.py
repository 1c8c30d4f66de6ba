"""Coverage paths: boustrophedon over a set of cells at the sweep angle that flies fastest.

Chain of stages (after Fields2Cover): :mod:`~missions.planning.swaths` makes lines and blocks at
an angle; :func:`best_sweep_angle` picks the angle by the flight-time cost :func:`sweep_time_s`
(turns cost time, so fewer, longer lines win); :func:`plan_coverage` orders the blocks with a
2-opt TSP heuristic and picks each block's entry corner by dynamic programming, and flies each
line only as far as its photos need (:func:`~missions.planning.sweepcost.flown_extent`). Without
a keep-out area near it, the path takes its lines from the search batch that costed the chosen
angle instead of sweeping again.
Everything is in the metric planning CRS. Connections between lines are straight here; the
sortie builder routes any that would cross a no-fly zone (:mod:`~missions.planning.transit`).
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
from missions.planning.sweepcost import (
    SweepBatch,
    SweepCost,
    flown_extent,
    line_count_breaks,
    sweep_batch,
)
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
# local refinement, one batch per row (each batch costs a fixed overhead, so few batches of
# several step halvings): (angles refined, see _basins; halvings); halvings continue row to row
_REFINE = ((12, 5),)
_INSIDE_RAD = 1e-7  # samples this far inside a line-count piece (its ends are jumps)


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
        self, area: shapely.Geometry, cost: SweepCost, keep_out: shapely.Geometry | None
    ) -> None:
        c = shapely.centroid(area)
        self.origin = (float(c.x), float(c.y))
        self.edges = area_edges(area)
        self.cost = cost
        self.keep_out = keep_out

    def lines(self, angle_rad: float) -> tuple[Frame, Lines]:
        frame = Frame(angle_rad, self.origin)
        ko = None if self.keep_out is None else frame.geometry_to_sweep(self.keep_out)
        spacing = self.cost.swath_spacing_m
        return frame, sweep_lines(self.edges, frame, spacing, ko, across_m=self.cost.across_m)

    def batch(self, angles: FloatArray) -> SweepBatch | None:
        """Objective per angle with the intervals behind it; None when the area has no edges.

        The keep-out area is not cut out here (see :func:`sweep_time_s`).
        """
        return sweep_batch(self.edges, self.origin, angles, self.cost)

    def costs(self, angles: FloatArray) -> FloatArray:
        """Objective per angle (see :meth:`batch`)."""
        found = self.batch(angles) if len(angles) else None
        return np.zeros(len(angles)) if found is None else found.costs


def sweep_time_s(
    area: shapely.Geometry,
    angle_rad: float,
    *,
    cost: SweepCost,
) -> float:
    """Estimated time to survey ``area`` with lines at ``angle_rad`` (the angle-search objective).

    Survey and connection lengths at survey speed (lines as flown: with the camera in ``cost``,
    only as far as their photos need; a line change costs the mean of its two possible sides),
    two turns per line change, and per extra block a hop of one swath with two
    turns (the exact hops depend on the later ordering). No-fly zones are not cut out: they are
    small against a sortie's area, and cutting them per angle would cost ten times more; the
    path itself (:func:`plan_coverage`) does cut them out.
    """
    return float(_Sweeper(area, cost, None).costs(np.array([angle_rad % math.pi]))[0])


def _pieces(area: shapely.Geometry, cost: SweepCost) -> FloatArray:
    """Angles in [0, π] between which the line count is constant (see ``line_count_breaks``)."""
    hull = shapely.convex_hull(area)
    if shapely.get_type_id(hull) != 3:
        return np.array([0.0, math.pi])
    return line_count_breaks(shapely.get_coordinates(hull), cost)


def _samples(breaks: FloatArray, step_rad: float) -> FloatArray:
    """Both ends (just inside) of every line-count piece and points at most ``step`` apart."""
    a, b = breaks[:-1] + _INSIDE_RAD, breaks[1:] - _INSIDE_RAD
    k = np.maximum(1, np.ceil((b - a) / step_rad)).astype(np.int64)
    piece = np.repeat(np.arange(len(a)), k + 1)
    i = np.arange(len(piece)) - np.repeat(np.cumsum(k + 1) - (k + 1), k + 1)
    out = a[piece] + (b - a)[piece] * i / k[piece]
    thin = (b - a)[piece] <= 2 * _INSIDE_RAD
    return np.where(thin, (breaks[:-1] + breaks[1:])[piece] / 2.0, out)


def best_sweep_angle(area: shapely.Geometry, *, cost: SweepCost) -> float:
    """The sweep angle (radians, in [0, π)) with the lowest :func:`sweep_time_s`.

    The line count, which dominates the cost, jumps at angles found in closed form; every piece
    between them is sampled (ends and a grid of ``angle_step_deg``), then the step is halved
    around the best few, staying inside their piece (one batch per few halvings: each batch
    has a fixed cost). Within a piece the cost still jumps (photo counts, blocks), so the
    result is the best angle seen, not a proven optimum.
    """
    return _search(_Sweeper(area, cost, None), area)[0]


def _search(sweeper: _Sweeper, area: shapely.Geometry) -> tuple[float, Lines | None]:
    """:func:`best_sweep_angle` with the lines of the chosen angle (no keep-out area cut out).

    The lines come from the batch that costed the angle, so the path needs no second sweep;
    None when the area has no edges.
    """
    cost = sweeper.cost
    breaks = _pieces(area, cost)
    step = math.radians(cost.angle_step_deg)
    angles = np.unique(np.clip(_samples(breaks, step), 0.0, math.pi) % math.pi)
    batches = [sweeper.batch(angles)]
    costs = _costs_of(batches[0], len(angles))
    done = 0
    for top, halvings in _REFINE:
        levels = np.arange(done, done + halvings) + 1
        done += halvings
        offsets = step * np.concatenate([-(0.5**levels), 0.5**levels])
        best = angles[_basins(angles, costs, top)]
        piece = np.clip(np.searchsorted(breaks, best, side="right"), 1, len(breaks) - 1)
        lo, hi = breaks[piece - 1] + _INSIDE_RAD, breaks[piece] - _INSIDE_RAD
        near = np.clip(best[:, None] + offsets[None, :], lo[:, None], hi[:, None]) % math.pi
        fresh = np.setdiff1d(near.ravel(), angles)
        batches.append(sweeper.batch(fresh) if len(fresh) else None)
        angles = np.concatenate([angles, fresh])
        costs = np.concatenate([costs, _costs_of(batches[-1], len(fresh))])
    pick = int(np.lexsort((angles, costs))[0])
    return float(angles[pick]), _lines_at(batches, pick)


def _basins(angles: FloatArray, costs: FloatArray, top: int) -> NDArray[np.intp]:
    """Indices of the samples to refine: the best two thirds of ``top``, then valleys.

    A valley is a sample lower than both neighbours (by angle). The best samples often sit in
    one valley; within a line-count piece the cost still jumps (blocks split and join, photo
    counts change), and a narrow low stretch beside a worse sample is missed unless its valley
    is refined too, so the last third goes to the best valleys not already chosen.
    """
    best = np.argsort(costs, kind="stable")[: top - top // 3]
    by_angle = np.argsort(angles, kind="stable")
    c = costs[by_angle]
    low = (c <= np.roll(c, 1)) & (c <= np.roll(c, -1))  # [0, π) wraps around
    valleys = by_angle[np.lexsort((c, ~low))]  # valleys first, each group by cost
    valleys = valleys[~np.isin(valleys, best)][: top // 3]
    return np.concatenate([best, valleys])


def _costs_of(batch: SweepBatch | None, n_angles: int) -> FloatArray:
    """The batch's costs (zeros when there was nothing to sweep)."""
    return np.zeros(n_angles) if batch is None else batch.costs


def _lines_at(batches: list[SweepBatch | None], i: int) -> Lines | None:
    """The lines of the ``i``-th angle costed, counting across ``batches`` in order."""
    for batch in batches:
        size = 0 if batch is None else len(batch.costs)
        if i < size and batch is not None:
            return Lines(*batch.lines_of(i))
        i -= size
    return None


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


Leg = tuple[XY, XY]


def _flights(frame: Frame, blocks: list[Block], cost: SweepCost) -> list[list[list[Leg]]]:
    """Per block its four ways to fly (from either end line, first line either way), in world.

    Lines are flown only as far as their photos need; all ends go to world coordinates at once.
    """
    ivs = [iv for b in blocks for iv in b.intervals]
    f0, f1 = flown_extent(np.array([iv.x0 for iv in ivs]), np.array([iv.x1 for iv in ivs]), cost)
    ys = np.array([iv.y for iv in ivs])
    ends = frame.to_world(np.column_stack([np.concatenate([f0, f1]), np.tile(ys, 2)])).tolist()
    left = [(x, y) for x, y in ends[: len(ivs)]]
    right = [(x, y) for x, y in ends[len(ivs) :]]
    out, at = [], 0
    for b in blocks:
        idx = list(range(at, at + len(b.intervals)))
        at += len(idx)
        variants = []
        for order in (idx, idx[::-1]):
            for left_first in (True, False):
                variants.append(
                    [
                        (left[i], right[i]) if (p % 2 == 0) == left_first else (right[i], left[i])
                        for p, i in enumerate(order)
                    ]
                )
        out.append(variants)
    return out


def _choose_entries(options: list[list[list[Leg]]], start: XY, end: XY) -> list[int]:
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


def _centres(variants: list[list[list[Leg]]]) -> FloatArray:
    """Per block the mean of its line ends (where the ordering visits it)."""
    return np.array(
        [np.mean([p for leg in v[0] for p in leg], axis=0) for v in variants], dtype=float
    )


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
    if cost.trigger_spacing_m > cost.footprint_along_m > 0:
        raise PlanningError(
            f"photos {cost.trigger_spacing_m:.1f} m apart leave gaps between images "
            f"{cost.footprint_along_m:.1f} m long; use a front overlap of at least 0"
        )
    end = start if end is None else end
    ko = _prepare(area, keep_out)
    sweeper = _Sweeper(area, cost, ko)
    angle, found = (angle_rad, None) if angle_rad is not None else _search(sweeper, area)
    if found is None or ko is not None:
        frame, lines = sweeper.lines(angle)
    else:
        frame, lines = Frame(angle, sweeper.origin), found
    blocks = blocks_for(lines.to_intervals())
    if not blocks:
        return CoveragePath(angle, ())
    variants = _flights(frame, blocks, cost)
    order = [0] if len(variants) == 1 else order_points_2opt(_centres(variants), start, end)
    options = [variants[i] for i in order]
    pick = _choose_entries(options, start, end)
    legs = tuple(leg for o, k in zip(options, pick, strict=True) for leg in o[k])
    return CoveragePath(angle, legs)
