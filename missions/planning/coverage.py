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
from missions.planning.swaths import Frame, Lines, area_edges, block_chains, sweep_lines
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
    width = b - a
    k = np.maximum(1, np.ceil(width / step_rad)).astype(np.int64)
    piece = np.arange(len(a)).repeat(k + 1)
    i = np.arange(len(piece)) - ((k + 1).cumsum() - (k + 1)).repeat(k + 1)
    out = a[piece] + width[piece] * i / k[piece]
    thin = width <= 2 * _INSIDE_RAD
    if not thin.any():
        return out
    return np.where(thin[piece], (breaks[:-1] + breaks[1:])[piece] / 2.0, out)


def best_sweep_angle(area: shapely.Geometry, *, cost: SweepCost) -> float:
    """The sweep angle (radians, in [0, π)) with the lowest :func:`sweep_time_s`.

    The line count, which dominates the cost, jumps at angles found in closed form; every piece
    between them is sampled (ends and a grid of ``angle_step_deg``), then the step is halved
    around the best few, staying inside their piece (one batch per few halvings: each batch
    has a fixed cost). When the best angle then lies half a step out, as far as the halvings
    reach, its valley may go on beyond: one more batch halves on around it. Within a piece the
    cost still jumps (photo counts, blocks), so the result is the best angle seen, not a proven
    optimum.
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
    angles = np.minimum(np.maximum(_samples(breaks, step), 0.0), math.pi) % math.pi
    if not np.logical_and.reduce(angles[1:] > angles[:-1]):  # usually sorted, no repeats
        angles = np.unique(angles)
    batches = [sweeper.batch(angles)]
    costs = _costs_of(batches[0], len(angles))
    done = 0
    far = np.empty(0)  # refined angles half a step out (the farthest the halvings reach)
    for top, halvings in _REFINE:
        levels = np.arange(done, done + halvings) + 1
        offsets = step * np.concatenate([-(0.5**levels), 0.5**levels])
        near, free = _around(breaks, angles[_basins(angles, costs, top)], offsets)
        if done == 0:
            ends = near[:, [0, halvings]]
            far = ends[free[:, [0, halvings]]]
        done += halvings
        batch, fresh = _new_batch(sweeper, near, angles)
        batches.append(batch)
        angles = np.concatenate([angles, fresh])
        costs = np.concatenate([costs, _costs_of(batch, len(fresh))])
    pick = int(np.lexsort((angles, costs))[0])
    if len(far) and np.logical_or.reduce(far == angles[pick]):
        # the best lies as far out as the refinement reached: its valley may go on beyond, so
        # halve on around it once (as far as a quarter step each way)
        levels = np.arange(2, _REFINE[0][1] + 1)
        offsets = step * np.concatenate([-(0.5**levels), 0.5**levels])
        near, _ = _around(breaks, angles[pick : pick + 1], offsets)
        batch, fresh = _new_batch(sweeper, near, angles)
        if batch is not None:
            batches.append(batch)
            angles = np.concatenate([angles, fresh])
            costs = np.concatenate([costs, batch.costs])
            pick = int(np.lexsort((angles, costs))[0])
    return float(angles[pick]), _lines_at(batches, pick)


def _around(
    breaks: FloatArray, centres: FloatArray, offsets: FloatArray
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """Angles at ``offsets`` from each of ``centres`` (one row each), kept inside the centre's
    line-count piece; and which of them needed no clipping to stay there."""
    piece = np.minimum(np.maximum(breaks.searchsorted(centres, side="right"), 1), len(breaks) - 1)
    lo, hi = breaks[piece - 1] + _INSIDE_RAD, breaks[piece] - _INSIDE_RAD
    raw = centres[:, None] + offsets[None, :]
    near = np.minimum(np.maximum(raw, lo[:, None]), hi[:, None])
    return near % math.pi, near == raw


def _new_batch(
    sweeper: _Sweeper, near: FloatArray, angles: FloatArray
) -> tuple[SweepBatch | None, FloatArray]:
    """The batch of the angles in ``near`` not yet in ``angles``, and those angles (sorted; as
    ``np.setdiff1d``, with less overhead)."""
    fresh = np.sort(near.ravel())
    keep = np.empty(len(fresh), dtype=bool)
    keep[:1] = True
    keep[1:] = fresh[1:] != fresh[:-1]
    fresh = fresh[keep]
    if len(angles) and len(fresh):
        known = np.sort(angles)
        at = np.minimum(known.searchsorted(fresh), len(known) - 1)
        fresh = fresh[known[at] != fresh]
    return (sweeper.batch(fresh) if len(fresh) else None), fresh


def _basins(angles: FloatArray, costs: FloatArray, top: int) -> NDArray[np.intp]:
    """Indices of the samples to refine: the best two thirds of ``top``, then valleys.

    A valley is a sample lower than both neighbours (by angle). The best samples often sit in
    one valley; within a line-count piece the cost still jumps (blocks split and join, photo
    counts change), and a narrow low stretch beside a worse sample is missed unless its valley
    is refined too, so the last third goes to the best valleys not already chosen.
    """
    best = costs.argsort(kind="stable")[: top - top // 3]
    by_angle = angles.argsort(kind="stable")
    c = costs[by_angle]
    around = np.concatenate([c[-1:], c, c[:1]])  # [0, π) wraps around
    low = (c <= around[:-2]) & (c <= around[2:])
    valleys = by_angle[np.lexsort((c, ~low))]  # valleys first, each group by cost
    chosen = np.zeros(len(costs), dtype=bool)
    chosen[best] = True
    valleys = valleys[~chosen[valleys]][: top // 3]
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


@dataclass(frozen=True)
class _Flight:
    """A block's lines as flown (ends in world coordinates, in block order), and its four ways to
    fly them: variant ``k`` starts from the first line (``k < 2``) or the last, and flies that
    line left to right (``k`` even) or right to left."""

    left: list[XY]
    right: list[XY]

    def legs(self, k: int) -> list[Leg]:
        n = len(self.left)
        order = range(n) if k < 2 else range(n - 1, -1, -1)
        left_first = k % 2 == 0
        return [
            (self.left[i], self.right[i])
            if (p % 2 == 0) == left_first
            else (self.right[i], self.left[i])
            for p, i in enumerate(order)
        ]

    def entry(self, k: int) -> XY:
        i = 0 if k < 2 else len(self.left) - 1
        return self.left[i] if k % 2 == 0 else self.right[i]

    def exit(self, k: int) -> XY:
        n = len(self.left)
        i = n - 1 if k < 2 else 0
        return self.right[i] if ((n - 1) % 2 == 0) == (k % 2 == 0) else self.left[i]


def _flights(frame: Frame, lines: Lines, cost: SweepCost) -> list[_Flight]:
    """Per boustrophedon block (:func:`~missions.planning.swaths.block_chains`) its lines as
    flown, in world coordinates.

    Lines are flown only as far as their photos need; all ends go to world coordinates at once.
    """
    n = len(lines.k)
    f0, f1 = flown_extent(lines.x0, lines.x1, cost)
    ys = lines.ys[lines.k]
    flown = np.empty((2 * n, 2))
    flown[:n, 0], flown[n:, 0], flown[:n, 1], flown[n:, 1] = f0, f1, ys, ys
    ends = frame.to_world(flown).tolist()
    left = [(x, y) for x, y in ends[:n]]
    right = [(x, y) for x, y in ends[n:]]
    return [
        _Flight([left[c] for c in chain], [right[c] for c in chain])
        for chain in block_chains(lines.k.tolist(), lines.x0.tolist(), lines.x1.tolist())
    ]


def _first_min(values: list[float]) -> int:
    """Index of the smallest value (the first, on ties)."""
    return min(range(len(values)), key=values.__getitem__)


def _choose_entries(options: list[_Flight], start: XY, end: XY) -> list[int]:
    """Per block, which of its entry variants minimises the hops (Viterbi over the order)."""
    cost = [math.dist(start, options[0].entry(k)) for k in range(4)]
    back: list[list[int]] = []
    for prev, cur in itertools.pairwise(options):
        exits = [prev.exit(k) for k in range(4)]
        row, arg = [], []
        for j in range(4):
            entry = cur.entry(j)
            hops = [cost[k] + math.dist(exits[k], entry) for k in range(4)]
            k = _first_min(hops)
            row.append(hops[k])
            arg.append(k)
        cost, back = row, [*back, arg]
    final = [c + math.dist(options[-1].exit(k), end) for k, c in enumerate(cost)]
    pick = [_first_min(final)]
    for arg in reversed(back):
        pick.append(arg[pick[-1]])
    return pick[::-1]


def _centres(flights: list[_Flight]) -> FloatArray:
    """Per block the mean of its line ends (where the ordering visits it)."""
    return np.array(
        [np.mean([p for leg in f.legs(0) for p in leg], axis=0) for f in flights], dtype=float
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
    if not len(lines.k):
        return CoveragePath(angle, ())
    flights = _flights(frame, lines, cost)
    order = [0] if len(flights) == 1 else order_points_2opt(_centres(flights), start, end)
    options = [flights[i] for i in order]
    pick = _choose_entries(options, start, end)
    legs = tuple(leg for o, k in zip(options, pick, strict=True) for leg in o.legs(k))
    return CoveragePath(angle, legs)
