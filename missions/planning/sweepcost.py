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
    "continuations",
    "flown_extent",
    "line_count_breaks",
    "sweep_batch",
    "sweep_costs",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_MIN_INTERVAL_M = 1.0
# reductions without the Python wrappers of ndarray.min() etc. (a batch makes dozens of calls)
_MIN, _MAX, _ANY = np.minimum.reduce, np.maximum.reduce, np.logical_or.reduce
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
    rot: FloatArray, ys: FloatArray, n: IntArray, spacing_m: float, span: float
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

    An edge's first piece (from its lower end up to the first border it crosses, or to its upper
    end) is a range of its own. Every further piece starts where the edge crosses its band's
    lower border, at an end of a chord along that border; the chord and the two pieces starting
    at its ends overlap, so they form one range: about half as many ranges to merge.
    """
    n_angles, n_edges, n_cols = rot.shape[0], rot.shape[1], ys.shape[1]
    e = rot.reshape(-1, 4)
    up = e[:, 3] >= e[:, 1]  # the edge's lower end first
    lx, hx = np.where(up, e[:, 0], e[:, 2]), np.where(up, e[:, 2], e[:, 0])
    ly, hy = np.minimum(e[:, 1], e[:, 3]), np.maximum(e[:, 1], e[:, 3])
    # in units of the spacing from border 0 (border k at k, band k between k and k + 1)
    ends_y = np.concatenate([ly, hy]).reshape(2, n_angles, n_edges)
    p = ((ends_y - ys[:, :1]) / spacing_m + 0.5).reshape(2, -1)
    p_lo, p_hi = p
    c, f = np.ceil(p).astype(np.int64), np.floor(p).astype(np.int64)
    c_lo, (f_lo, f_hi) = c[0], f
    # the edge's pieces lie in bands k0..k1, those whose closed extent [k - 1/2, k + 1/2] meets
    # the edge's; every piece but the first starts where the edge crosses its band's lower
    # border (by the half-open crossing rule, not where the edge ends exactly on that border)
    k0 = np.maximum(c_lo - 1, 0)
    k1 = np.minimum(f_hi.reshape(n_angles, n_edges), (n - 1)[:, None]).ravel()
    count = k1 - k0 + 1
    # x where the edge crosses border k: lx + (k - p_lo) * slope (flat edges cross none)
    dp = p_hi - p_lo
    slope = (hx - lx) / np.where(dp > 1e-15, dp, 1.0)
    x_up = np.where(count > 1, lx + (k0 + 1 - p_lo) * slope, hx)  # where the first piece ends
    # pieces thinner than _EPS_M at a band border drop, which needs care only where an edge
    # ends within _EPS_M of a border, or is that flat
    eps = _EPS_M / spacing_m
    frac = p - f
    near_border = bool(_MIN(frac, None) <= eps or _MAX(frac, None) >= 1.0 - eps)  # or on one
    if near_border or _MIN(dp) <= eps:
        top = (n - 1).repeat(n_edges)
        n_cross, keep_first, p_end = _thin_pieces(p, c, f, bands=(k0, k1, top), eps=eps)
    else:
        n_cross, keep_first, p_end = np.maximum(count - 1, 0), count > 0, p_hi
    base = np.arange(n_angles) * n_cols
    g_first = (k0.reshape(n_angles, n_edges) + base[:, None]).ravel()[keep_first]
    f0, f1 = np.minimum(lx, x_up)[keep_first], np.maximum(lx, x_up)[keep_first]
    k_f, xa, xb = _crossings(n_cross, (k0, k1), lx=lx, p_lo=p_lo, slope=slope, p_end=p_end)
    gc = base.repeat(np.add.reduce(n_cross.reshape(n_angles, n_edges), axis=1)) + k_f.astype(
        np.int64
    )
    # the chord between two crossings and the pieces starting at its ends overlap: one range
    order = (gc * span + xa).argsort(kind="stable")
    oa, ob = order[0::2], order[1::2]
    g_ch = gc[oa]
    xa_a, xa_b, xb_a, xb_b = xa[oa], xa[ob], xb[oa], xb[ob]
    r0 = np.minimum(np.minimum(xa_a, xb_a), np.minimum(xa_b, xb_b))
    r1 = np.maximum(np.maximum(xa_a, xb_a), np.maximum(xa_b, xb_b))
    # chords just above border j belong to band j, just below border 1 to band 0; they differ
    # only where a vertex lies exactly on a border (p integral), so usually one pass serves both
    if not near_border or (c != f).all():
        at_1 = g_ch % n_cols == 1
        below = (g_ch[at_1], xa_a[at_1], xa_b[at_1])
    else:
        first = np.repeat(ys[:, 0], n_edges)
        chords = partial(_chords, e, first, np.repeat(base, n_edges), spacing_m=spacing_m)
        below = chords(j0=np.maximum(f_lo + 1, 1), j1=np.minimum(k1, 1))
    return (
        np.concatenate([g_first, g_ch, below[0] - 1]),
        np.concatenate([f0, r0, below[1]]),
        np.concatenate([f1, r1, below[2]]),
    )


def _crossings(
    n_cross: IntArray,
    bands: tuple[IntArray, IntArray],
    *,
    lx: FloatArray,
    p_lo: FloatArray,
    slope: FloatArray,
    p_end: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Every border crossing, edge by edge (see :func:`_band_ranges`): the border (as a float)
    and the x-range of the piece starting there, up to the next border or, for the edge's last
    piece, to ``p_end`` (its upper end, or its crossing when the piece drops).

    Per-crossing arrays come from 1-D repeats: a 2-D one is slower and, past a few hundred kB,
    costs fresh pages on every call.
    """
    k0, k1 = bands
    c_ends = n_cross.cumsum()
    total = int(c_ends[-1]) if len(c_ends) else 0
    koff = (k0 + 1 + n_cross - c_ends).astype(float)
    k_f = np.arange(total) + koff.repeat(n_cross)
    slope_c = slope.repeat(n_cross)
    xa = lx.repeat(n_cross) + (k_f - p_lo.repeat(n_cross)) * slope_c
    xb = xa + slope_c  # at the next border
    last = ((n_cross > 0) & (k0 + n_cross == k1)).nonzero()[0]  # where the edge's last piece is
    xb[c_ends[last] - 1] = lx[last] + (p_end[last] - p_lo[last]) * slope[last]
    return k_f, xa, xb


def _thin_pieces(
    p: FloatArray,
    c: IntArray,
    f: IntArray,
    *,
    bands: tuple[IntArray, IntArray, IntArray],
    eps: float,
) -> tuple[IntArray, NDArray[np.bool_], FloatArray]:
    """Per edge (see :func:`_band_ranges`): how many crossings, whether the first piece stays,
    and where the last piece ends; ``bands``: per edge its first and last band, and the top one.

    The first piece, and the last one (when it is not the first), drop where they are thinner
    than ``eps`` spacings at a band border: an edge on a border only touches the band on that
    side (the area there, if any, shows in the other edges and the chords). A dropped last
    piece leaves its crossing only; an edge ending exactly on a border does not cross it.
    """
    (p_lo, p_hi), (c_hi, f_hi), (k0, k1, top) = p, (c[1], f[1]), bands
    count = k1 - k0 + 1
    on_hi = (c_hi == f_hi) & (k1 == f_hi) & (count > 1)
    n_cross = np.maximum(count - 1 - on_hi, 0)
    keep_first = np.where(
        count == 1,
        (p_hi - p_lo > eps)
        | ((k0 == 0) | (p_lo - k0 > eps)) & ((k0 == top) | (k1 + 1 - p_hi > eps)),
        (count > 1) & (k0 + 1 - p_lo > eps),
    )
    drop_last = (p_hi - k1 <= eps) & ~on_hi
    return n_cross, keep_first, np.where(drop_last, k1, p_hi)


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
    g: IntArray, x0: FloatArray, x1: FloatArray, span: float | None = None
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Merge overlapping x-ranges per line ``g``; result sorted by line, then x.

    ``span``: more than twice the largest ``|x|`` (by default found from the ranges).
    """
    span = _span(x0, x1) if span is None else span
    gs = g * span
    order = (gs + x0).argsort(kind="stable")  # as in _chords: runs sort faster
    g, x0, x1 = g[order], x0[order], x1[order]
    gs = g * span
    reach = np.maximum.accumulate(x1 + gs) - gs
    new = np.empty(len(g), dtype=bool)
    new[0] = True
    new[1:] = (g[1:] != g[:-1]) | (x0[1:] > reach[:-1] + _EPS_M)
    ends = np.concatenate([new.nonzero()[0][1:] - 1, [len(g) - 1]])
    return g[new], x0[new], reach[ends]


def continuations(
    g: IntArray, x0: FloatArray, x1: FloatArray, span: float | None = None
) -> tuple[IntArray, IntArray]:
    """Pairs (i, j): interval j on the next line continues interval i's block (one-to-one).

    ``span``: as in :func:`merge_ranges`.
    """
    if len(g) < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    span = _span(x0, x1) if span is None else span
    gs = g * span
    key0, key1 = gs + x0, gs + x1
    lo = _count_below(key1, key0 + (span + _EPS_M), inclusive=True)
    hi = _count_below(key0, key1 + (span - _EPS_M), inclusive=False)
    # interval i overlaps the intervals lo[i]..hi[i] - 1 of the next line (overlap is
    # symmetric), so j's predecessors are the i whose run covers j (an empty run adds nothing)
    n = len(g) + 1
    runs = np.bincount(lo, minlength=n) - np.bincount(np.maximum(hi, lo), minlength=n)
    pred = runs.cumsum()
    i = (hi - lo == 1).nonzero()[0]
    j = lo[i]
    ok = pred[j] == 1
    return i[ok], j[ok]


def _count_below(a: FloatArray, q: FloatArray, *, inclusive: bool) -> IntArray:
    """Per query, how many of ``a`` are below it (or equal, with ``inclusive``): ``np.searchsorted``
    for sorted queries, by one merge of two sorted runs instead of a binary search each."""
    both = np.concatenate([a, q] if inclusive else [q, a])
    order = both.argsort(kind="stable")  # a merge of the two runs: ties keep the first's
    at_q = (order >= len(a) if inclusive else order < len(q)).nonzero()[0]
    return at_q - np.arange(len(q))


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
    ys_all = rot[:, :, 1]  # every vertex starts an edge
    miny, maxy = _MIN(ys_all, axis=1), _MAX(ys_all, axis=1)
    height = maxy - miny
    n = line_count(height, spacing_m, spacing_m if across_m is None else across_m)
    n_max = int(_MAX(n))
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
    return _sweep(edges, origin, angles, spacing_m, across_m)[:5]


def _sweep(
    edges: FloatArray,
    origin: tuple[float, float],
    angles: FloatArray,
    spacing_m: float,
    across_m: float | None,
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, IntArray, float]:
    """:func:`sweep_arrays` and the ``span`` of its sort keys (see :func:`merge_ranges`)."""
    rot = _rotate(edges, origin, angles)
    ys, n = line_positions(rot, spacing_m, across_m)
    # every x in any frame lies within the edges' distance from the origin
    d = edges - np.array([origin[0], origin[1], origin[0], origin[1]])
    span = 4.0 * math.sqrt(float(_MAX(d * d, None)) * 2.0) + 1.0
    g, x0, x1 = _band_ranges(rot, ys, n, spacing_m, span)
    if len(g) == 0:
        return g, x0, x1, ys, n, span
    g, x0, x1 = merge_ranges(g, x0, x1, span)
    short = x1 - x0 < _MIN_INTERVAL_M
    if not _ANY(short):
        return g, x0, x1, ys, n, span
    keep = ~short | (n[g // ys.shape[1]] == 1)
    return g[keep], x0[keep], x1[keep], ys, n, span


def costs_from_arrays(
    g: IntArray,
    x0: FloatArray,
    x1: FloatArray,
    ys: FloatArray,
    cost: SweepCost,
    *,
    span: float | None = None,
) -> FloatArray:
    """Objective per angle from merged intervals (see ``coverage.sweep_time_s``).

    ``span``: as in :func:`merge_ranges`.
    """
    n_angles, n_max = ys.shape
    out = np.zeros(n_angles)
    if len(g) == 0:
        return out
    i, j = continuations(g, x0, x1, span)
    f0, f1 = flown_extent(x0, x1, cost)
    a_of = g // n_max
    a_i = a_of[i]
    dy = cost.swath_spacing_m  # j lies on the line after i's
    d0, d1 = f0[i] - f0[j], f1[i] - f1[j]
    connect = (np.sqrt(d0 * d0 + dy * dy) + np.sqrt(d1 * d1 + dy * dy)) / 2.0
    count = np.bincount(a_of, minlength=n_angles).astype(float)
    cont = np.bincount(a_i, minlength=n_angles).astype(float)
    blocks = count - cont
    survey = np.bincount(a_of, weights=f1 - f0, minlength=n_angles)
    connect_sum = np.bincount(a_i, weights=connect, minlength=n_angles)
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
    angles = np.asarray(angles, dtype=float).reshape(-1)
    g, x0, x1, ys, n, span = _sweep(edges, origin, angles, cost.swath_spacing_m, cost.across_m)
    return SweepBatch(costs_from_arrays(g, x0, x1, ys, cost, span=span), g, x0, x1, ys, n)


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
    d = hull_xy[1:] - hull_xy[:-1]
    d = d[np.hypot(d[:, 0], d[:, 1]) > 1e-9]
    knots = _sorted_unique(np.concatenate([np.arctan2(d[:, 1], d[:, 0]) % math.pi, _HALF_TURN]))
    mids = (knots[:-1] + knots[1:]) / 2.0
    x, y = hull_xy[:-1, 0], hull_xy[:-1, 1]
    proj = -np.sin(mids)[:, None] * x[None, :] + np.cos(mids)[:, None] * y[None, :]
    hi, lo = proj.argmax(axis=1), proj.argmin(axis=1)
    dx, dy = x[hi] - x[lo], y[hi] - y[lo]
    radius, psi = np.hypot(dx, dy), np.arctan2(-dx, dy)
    m = np.arange(1, int(np.ceil(_MAX(radius) / cost.swath_spacing_m)) + 2)
    level = cost.across_m + (m - 1) * cost.swath_spacing_m + 1e-9 * cost.swath_spacing_m
    ratio = level[None, :] / np.maximum(radius[:, None], 1e-12)
    p, q = (ratio <= 1.0).nonzero()
    acos = np.arccos(ratio[p, q])
    roots = psi[p][:, None, None] + _SIGNS * acos[:, None, None]
    roots = (roots + _SHIFTS).reshape(len(p), _SHIFTS.size * 2)
    inside = (roots >= knots[p][:, None]) & (roots <= knots[p + 1][:, None])
    return _sorted_unique(np.concatenate([knots, roots[inside]]))


_HALF_TURN = np.array([0.0, math.pi])
_SIGNS = np.array([-1.0, 1.0])[None, :, None]
_SHIFTS = (np.array([-2.0, 0.0, 2.0]) * math.pi)[None, None, :]


def _sorted_unique(x: FloatArray) -> FloatArray:
    """``np.unique`` of a float array without NaN (sorted, repeats dropped), with less overhead."""
    x = x.copy()
    x.sort()
    keep = np.empty(len(x), dtype=bool)
    keep[:1] = True
    keep[1:] = x[1:] != x[:-1]
    return x[keep]
