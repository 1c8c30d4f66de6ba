"""The sweep-angle objective, evaluated for many angles at once, and where its line count jumps.

Same geometry as :func:`missions.planning.swaths.sweep_lines` (band extents, one-to-one
continuations), but every array carries an angle axis, so a whole angle grid costs a few dozen
numpy calls instead of a few dozen per angle. Line ``k`` of angle ``a`` is the global line
``a * n_max + k``.

Camera-aware geometry (when :class:`SweepCost` carries the footprint): the outer lines sit up to
half an image width inside the area's edge, not half a spacing, so ``ceil((height - width) /
spacing) + 1`` lines suffice; and a line is flown only as far as its photos need: the first photo
is taken at the line start and one every trigger spacing, each imaging half an image length
before and after it (:func:`flown_extent`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "SweepBatch",
    "SweepCost",
    "flown_extent",
    "line_count_breaks",
    "sweep_batch",
    "sweep_costs",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_MIN_INTERVAL_M = 1.0
_EPS_M = 1e-6  # ranges touching within this are one (rounding of the line-offset keys)
TRIGGER_MARGIN_M = 1.0  # flown past the last photo, so a distance trigger fires before the end
# An autopilot measures the line with its own earth model (spherical, ArduPilot's and the
# simulator's) and the plan's metres are projected ones: on the reference district the drone
# reads an east-west line 0.16 % longer. The line runs this share further so the last
# photo still fires.
ODOMETRY_TOLERANCE = 0.005


@dataclass(frozen=True)
class SweepCost:
    """What a sweep costs: line spacing, survey speed and the time lost at each turn.

    Without the camera fields lines run to the area's edge and the outer lines sit half a spacing
    inside it (a camera-blind plan). With them (from the survey settings: the footprint and the
    trigger spacing) the plan uses the whole image: fewer, shorter lines, the area still imaged.
    """

    swath_spacing_m: float
    speed_mps: float
    turn_time_s: float
    angle_step_deg: float = 1.0  # coarse search step inside each line-count piece
    footprint_across_m: float | None = None  # image width across track (None: the spacing)
    footprint_along_m: float = 0.0  # image length along track (0: lines run edge to edge)
    trigger_spacing_m: float = 0.0  # distance between photos along a line

    @property
    def across_m(self) -> float:
        """Image width across track; never less than the spacing (that would leave gaps)."""
        return max(self.footprint_across_m or 0.0, self.swath_spacing_m)

    @property
    def trims(self) -> bool:
        """Whether lines stop where their photos stop (needs image length and trigger spacing)."""
        return 0.0 < self.trigger_spacing_m <= self.footprint_along_m


def _rotate(edges: FloatArray, origin: tuple[float, float], angles: FloatArray) -> FloatArray:
    """Edges (E, 4) into each sweep frame: (A, E, 4)."""
    c, s = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    d = edges - np.array([origin[0], origin[1], origin[0], origin[1]])
    dx, dy = d[None, :, 0::2], d[None, :, 1::2]
    out = np.empty((len(angles), len(edges), 4))
    out[:, :, 0::2] = c * dx + s * dy
    out[:, :, 1::2] = c * dy - s * dx
    return out


def _span(x0: FloatArray, x1: FloatArray) -> float:
    """Offset between lines in the combined sort key ``line * span + x`` (one sort, not two)."""
    if len(x0) == 0:
        return 1.0
    return float(max(np.abs(x0).max(), np.abs(x1).max())) * 4.0 + 1.0


def _expand(lo: IntArray, hi: IntArray) -> tuple[IntArray, IntArray]:
    """Rows ``r`` of ``lo``/``hi`` (flattened) repeated over ``lo[r]..hi[r]``: (row, value)."""
    lo, hi = lo.ravel(), hi.ravel()
    count = np.maximum(hi - lo + 1, 0)
    row = np.repeat(np.arange(len(lo)), count)
    first = np.cumsum(count) - count
    return row, lo[row] + np.arange(len(row)) - first[row]


def _band_ranges(
    rot: FloatArray, ys: FloatArray, n: IntArray, spacing_m: float
) -> tuple[IntArray, FloatArray, FloatArray]:
    """x-ranges of the area inside each band: edge pieces, and chords along band borders.

    Lines are evenly spaced, so the bands an edge touches (and the band borders it crosses) are
    a contiguous run computed by arithmetic, not by testing every edge against every line. In
    units of the spacing, border ``j`` (between bands ``j - 1`` and ``j``) lies at ``j``. The
    outer bands reach out to infinity.

    Chords along a band's upper border add nothing, except for the bottom band: from a point of
    such a chord, straight down inside the area, the first thing met is either the area's edge
    in the band (an edge piece covers its x) or the band's lower border (a chord along it
    covers it). Only an edge lying within ``_EPS_M`` of the lower border, whose piece is
    dropped below, breaks this; such a sliver is not worth a line. Edges wholly below half a
    spacing under the bottom line give the bottom band no pieces, so there the argument fails
    and its upper chords stay.
    """
    n_edges = rot.shape[1]
    e = rot.reshape(-1, 4)
    ex1, ey1, ey2 = e[:, 0], e[:, 1], e[:, 3]
    first = np.repeat(ys[:, 0], n_edges)
    top = np.repeat(n - 1, n_edges)
    ymin, ymax = np.minimum(ey1, ey2), np.maximum(ey1, ey2)
    p_lo, p_hi = (ymin - first) / spacing_m + 0.5, (ymax - first) / spacing_m + 0.5
    c_lo, c_hi = np.ceil(p_lo).astype(np.int64), np.ceil(p_hi).astype(np.int64)
    # edge pieces: bands k whose closed extent [k - 1/2, k + 1/2] meets the edge's
    row, k = _expand(np.maximum(c_lo - 1, 0), np.minimum(np.floor(p_hi).astype(np.int64), top))
    dy = ey2 - ey1
    flat = np.abs(dy) < 1e-12
    # per edge, then gathered per piece in one take: x1, y1, dx, dy (1 where flat), ymin, ymax,
    # first line's y, top line index
    per_edge = np.stack([ex1, ey1, e[:, 2] - ex1, np.where(flat, 1.0, dy), ymin, ymax, first, top])
    px1, py1, pdx, pdy, pmin, pmax, pfirst, ptop = np.take(per_edge, row, axis=1)
    centre = pfirst + k * spacing_m
    lo = np.where(k == 0, -np.inf, centre - spacing_m / 2.0)
    hi = np.where(k == ptop, np.inf, centre + spacing_m / 2.0)
    ya, yb = np.maximum(pmin, lo), np.minimum(pmax, hi)
    xa = px1 + (ya - py1) / pdy * pdx
    xb = px1 + (yb - py1) / pdy * pdx
    if flat.any():
        pflat = flat[row]
        xa, xb = np.where(pflat, px1, xa), np.where(pflat, e[row, 2], xb)
    g = (row // n_edges) * ys.shape[1] + k
    x0, x1 = np.minimum(xa, xb), np.maximum(xa, xb)
    # an edge lying on a border only touches the band on that side: the area there, if any,
    # shows in the other edges and the chords (keeping it would survey a line of nothing)
    thin = yb - ya <= _EPS_M
    if thin.any():
        keep = ~(thin & ((ya - lo <= _EPS_M) | (hi - yb <= _EPS_M)))
        g, x0, x1 = g[keep], x0[keep], x1[keep]
    # chords just above border j belong to band j, just below border 1 to band 0; they differ
    # only where a vertex lies exactly on a border (p integral), so usually one pass serves both
    base = (np.arange(len(n)) * ys.shape[1]).repeat(n_edges)
    chords = partial(_chords, e, first, base, spacing_m=spacing_m)
    above = chords(j0=np.maximum(c_lo, 1), j1=np.minimum(c_hi - 1, top))
    f_lo, f_hi = np.floor(p_lo).astype(np.int64) + 1, np.floor(p_hi).astype(np.int64) + 1
    if np.array_equal(c_lo, f_lo) and np.array_equal(c_hi, f_hi):
        at_1 = above[0] % ys.shape[1] == 1
        below = (above[0][at_1], above[1][at_1], above[2][at_1])
    else:
        below = chords(j0=np.maximum(f_lo, 1), j1=np.minimum(np.minimum(f_hi - 1, top), 1))
    return (
        np.concatenate([g, above[0], below[0] - 1]),
        np.concatenate([x0, above[1], below[1]]),
        np.concatenate([x1, above[2], below[2]]),
    )


def _chords(
    e: FloatArray,
    first: FloatArray,
    base: IntArray,
    *,
    spacing_m: float,
    j0: IntArray,
    j1: IntArray,
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Chords of the area along the borders ``j0..j1`` each edge crosses (border ``j`` global).

    The crossing rule is half-open (``ymin <= border < ymax`` or ``ymin < border <= ymax``), so
    a ring crosses a border an even number of times and the sorted crossings pair up.
    """
    row, j = _expand(j0, j1)
    ex1, ey1, ex2, ey2 = e[row].T
    border = first[row] + (j - 0.5) * spacing_m
    x = ex1 + (border - ey1) / (ey2 - ey1) * (ex2 - ex1)
    g = base[row] + j
    # stable (timsort): the keys come in runs, angle after angle, and sort twice as fast
    order = np.argsort(g * _span(x, x) + x, kind="stable")
    g, x = g[order], x[order]
    return g[0::2], x[0::2], x[1::2]


def merge_ranges(
    g: IntArray, x0: FloatArray, x1: FloatArray
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Merge overlapping x-ranges per line ``g``; result sorted by line, then x."""
    span = _span(x0, x1)
    order = np.argsort(g * span + x0, kind="stable")  # as in _chords: runs sort faster
    g, x0, x1 = g[order], x0[order], x1[order]
    reach = np.maximum.accumulate(x1 + g * span) - g * span
    new = np.empty(len(g), dtype=bool)
    new[0] = True
    new[1:] = (g[1:] != g[:-1]) | (x0[1:] > reach[:-1] + _EPS_M)
    ends = np.append(np.flatnonzero(new)[1:] - 1, len(g) - 1)
    return g[new], x0[new], reach[ends]


def continuations(g: IntArray, x0: FloatArray, x1: FloatArray) -> tuple[IntArray, IntArray]:
    """Pairs (i, j): interval j on the next line continues interval i's block (one-to-one)."""
    if len(g) < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    span = _span(x0, x1)
    key0, key1 = g * span + x0, g * span + x1
    lo = np.searchsorted(key1, (g + 1) * span + x0 + _EPS_M, side="right")
    hi = np.searchsorted(key0, (g + 1) * span + x1 - _EPS_M, side="left")
    # interval i overlaps the intervals lo[i]..hi[i] - 1 of the next line (overlap is
    # symmetric), so j's predecessors are the i whose run covers j
    has = hi > lo
    n = len(g) + 1
    runs = np.bincount(lo[has], minlength=n) - np.bincount(hi[has], minlength=n)
    pred = np.cumsum(runs)
    i = np.flatnonzero(hi - lo == 1)
    j = lo[i]
    ok = pred[j] == 1
    return i[ok], j[ok]


def line_count(height_m: FloatArray, spacing_m: float, across_m: float) -> IntArray:
    """Fewest lines ``spacing_m`` apart whose images (``across_m`` wide) span ``height_m``."""
    n = np.ceil((height_m - across_m) / spacing_m - 1e-9) + 1
    return np.asarray(np.maximum(1, n), dtype=np.int64)


def line_positions(
    rot: FloatArray, spacing_m: float, across_m: float | None = None
) -> tuple[FloatArray, IntArray]:
    """Per angle, the y of each line (centred on the area's extent) and the line count.

    Padded with NaN to (A, n_max + 1): the always-empty last column keeps the last line of one
    angle from looking adjacent to the first line of the next.
    """
    ys_all = rot[:, :, 1::2]
    miny, maxy = ys_all.min(axis=(1, 2)), ys_all.max(axis=(1, 2))
    height = maxy - miny
    n = line_count(height, spacing_m, spacing_m if across_m is None else across_m)
    n_max = int(n.max())
    first = miny + (height - (n - 1) * spacing_m) / 2.0
    ys = first[:, None] + spacing_m * np.arange(n_max + 1, dtype=float)[None, :]
    ys[np.arange(n_max + 1)[None, :] >= n[:, None]] = np.nan
    return ys, n


def sweep_arrays(
    edges: FloatArray,
    origin: tuple[float, float],
    angles: FloatArray,
    spacing_m: float,
    across_m: float | None = None,
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, IntArray]:
    """Merged intervals (global line, x0, x1) for every angle, plus line ys and counts.

    A line's interval is the x-extent of the area inside its band; ``across_m`` (the image
    width, default the spacing) sets how many lines there are.
    """
    rot = _rotate(edges, origin, angles)
    ys, n = line_positions(rot, spacing_m, across_m)
    g, x0, x1 = _band_ranges(rot, ys, n, spacing_m)
    if len(g) == 0:
        return g, x0, x1, ys, n
    g, x0, x1 = merge_ranges(g, x0, x1)
    short = x1 - x0 < _MIN_INTERVAL_M
    if not short.any():
        return g, x0, x1, ys, n
    keep = ~short | (n[g // ys.shape[1]] == 1)
    return g[keep], x0[keep], x1[keep], ys, n


def costs_from_arrays(
    g: IntArray, x0: FloatArray, x1: FloatArray, ys: FloatArray, cost: SweepCost
) -> FloatArray:
    """Objective per angle from merged intervals (see ``coverage.sweep_time_s``)."""
    n_angles, n_max = ys.shape
    out = np.zeros(n_angles)
    if len(g) == 0:
        return out
    i, j = continuations(g, x0, x1)
    f0, f1 = flown_extent(x0, x1, cost)
    a_of = g // n_max
    flat_ys = ys.ravel()
    dy = flat_ys[g[j]] - flat_ys[g[i]]
    connect = (np.hypot(f0[i] - f0[j], dy) + np.hypot(f1[i] - f1[j], dy)) / 2.0
    count = np.bincount(a_of, minlength=n_angles).astype(float)
    cont = np.bincount(a_of[i], minlength=n_angles).astype(float)
    blocks = count - cont
    survey = np.bincount(a_of, weights=f1 - f0, minlength=n_angles)
    connect_sum = np.bincount(a_of[i], weights=connect, minlength=n_angles)
    hops = np.maximum(blocks - 1, 0)
    length = survey + connect_sum + hops * cost.swath_spacing_m
    turns = 2 * cont + 2 * hops
    out = length / cost.speed_mps + turns * cost.turn_time_s
    return np.asarray(out, dtype=float)


@dataclass(frozen=True)
class SweepBatch:
    """The objective of a batch of angles and the merged intervals it was computed from."""

    costs: FloatArray
    g: IntArray
    x0: FloatArray
    x1: FloatArray
    ys: FloatArray
    n: IntArray

    def lines_of(self, i: int) -> tuple[IntArray, FloatArray, FloatArray, FloatArray]:
        """Angle ``i``'s intervals (line index, x0, x1; by line, then x) and its lines' ys."""
        n_max = self.ys.shape[1]
        lo, hi = np.searchsorted(self.g, [i * n_max, (i + 1) * n_max])
        g = self.g[lo:hi] - i * n_max
        return g, self.x0[lo:hi], self.x1[lo:hi], self.ys[i, : int(self.n[i])]


def sweep_batch(
    edges: FloatArray, origin: tuple[float, float], angles: FloatArray, cost: SweepCost
) -> SweepBatch | None:
    """The sweep objective (seconds) for each of ``angles`` (radians), with its intervals.

    None when the area has no edges (then every angle costs nothing).
    """
    if len(edges) == 0:
        return None
    angles = np.atleast_1d(np.asarray(angles, dtype=float))
    g, x0, x1, ys, n = sweep_arrays(edges, origin, angles, cost.swath_spacing_m, cost.across_m)
    return SweepBatch(costs_from_arrays(g, x0, x1, ys, cost), g, x0, x1, ys, n)


def sweep_costs(
    edges: FloatArray, origin: tuple[float, float], angles: FloatArray, cost: SweepCost
) -> FloatArray:
    """The sweep objective (seconds) for each of ``angles`` (radians)."""
    batch = sweep_batch(edges, origin, angles, cost)
    return np.zeros(np.size(angles)) if batch is None else batch.costs


def flown_extent(x0: FloatArray, x1: FloatArray, cost: SweepCost) -> tuple[FloatArray, FloatArray]:
    """Where to fly a line whose photos must image ``[x0, x1]`` (either direction).

    ``k + 1`` photos ``trigger`` apart image ``k * trigger + along`` of the line; the fewest that
    reach both ends with :data:`TRIGGER_MARGIN_M` to spare are centred on the interval, and the
    line is flown from the first photo to just past the last (past it by the margin and
    :data:`ODOMETRY_TOLERANCE`, for a drone that measures distance a little differently).

    That line is usually shorter than the interval, but for about a fifth of lengths it is a
    little longer, and it is not cut back: cut to the interval, a drone whose photos fall
    0.5 % apart further than planned loses the far end (up to a trigger spacing less half an
    image). It then runs past each end by less than ``ODOMETRY_TOLERANCE * length +
    TRIGGER_MARGIN_M`` (3 m on a 3 km line), well inside the keep-out margin around no-fly
    zones (30 m); the sortie validator checks the result against the zones themselves.
    """
    if not cost.trims:
        return x0, x1
    t, length = cost.trigger_spacing_m, x1 - x0
    # the line is centred and runs ODOMETRY_TOLERANCE past k * t, so count photos as if they
    # were that much closer: the last one still images the far end
    need = length - cost.footprint_along_m + TRIGGER_MARGIN_M
    k = np.maximum(0.0, np.ceil(need / (t * (1.0 - ODOMETRY_TOLERANCE)) - 1e-9))
    half = (k * t * (1.0 + ODOMETRY_TOLERANCE) + TRIGGER_MARGIN_M) / 2.0
    mid = (x0 + x1) / 2.0
    return mid - half, mid + half


def line_count_breaks(hull_xy: FloatArray, cost: SweepCost) -> FloatArray:
    """Sorted angles in [0, π] between which the line count is constant.

    The count depends only on the area's width across the sweep, ``H(θ) = max - min`` of the
    hull vertices' projections. Between two hull edge directions the extreme pair is fixed, so
    ``H(θ) = R cos(θ - ψ)`` there and each count threshold ``across + (m - 1) * spacing`` is
    crossed in closed form. Sampling every piece keeps the search from missing a narrow range
    of angles where one line fewer suffices.
    """
    d = np.diff(hull_xy, axis=0)
    d = d[np.hypot(d[:, 0], d[:, 1]) > 1e-9]
    knots = np.unique(np.concatenate([[0.0, math.pi], np.arctan2(d[:, 1], d[:, 0]) % math.pi]))
    mids = (knots[:-1] + knots[1:]) / 2.0
    x, y = hull_xy[:-1, 0], hull_xy[:-1, 1]
    proj = -np.sin(mids)[:, None] * x[None, :] + np.cos(mids)[:, None] * y[None, :]
    hi, lo = proj.argmax(axis=1), proj.argmin(axis=1)
    dx, dy = x[hi] - x[lo], y[hi] - y[lo]
    radius, psi = np.hypot(dx, dy), np.arctan2(-dx, dy)
    m = np.arange(1, int(np.ceil(radius.max() / cost.swath_spacing_m)) + 2)
    level = cost.across_m + (m - 1) * cost.swath_spacing_m + 1e-9 * cost.swath_spacing_m
    ratio = level[None, :] / np.maximum(radius[:, None], 1e-12)
    p, q = np.nonzero(ratio <= 1.0)
    acos = np.arccos(ratio[p, q])
    shifts = np.array([-2.0, 0.0, 2.0]) * math.pi
    roots = psi[p][:, None, None] + np.array([-1.0, 1.0])[None, :, None] * acos[:, None, None]
    roots = (roots + shifts[None, None, :]).reshape(len(p), 2 * len(shifts))
    inside = (roots >= knots[p][:, None]) & (roots <= knots[p + 1][:, None])
    return np.unique(np.concatenate([knots, roots[inside]]))
