"""The sweep-angle objective, evaluated for many angles at once.

Same geometry as :func:`missions.planning.swaths.sweep_lines` (band extents, one-to-one
continuations), but every array carries an angle axis, so a whole angle grid costs a few dozen
numpy calls instead of a few dozen per angle. Line ``k`` of angle ``a`` is the global line
``a * n_max + k``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["SweepCost", "sweep_costs"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_MIN_INTERVAL_M = 1.0
_EPS_M = 1e-6  # ranges touching within this are one (rounding of the line-offset keys)


@dataclass(frozen=True)
class SweepCost:
    """What a sweep costs: line spacing, survey speed and the time lost at each turn."""

    swath_spacing_m: float
    speed_mps: float
    turn_time_s: float
    angle_step_deg: float = 1.0  # coarse search step before local refinement


def _rotate(edges: FloatArray, origin: tuple[float, float], angles: FloatArray) -> FloatArray:
    """Edges (E, 4) into each sweep frame: (A, E, 4)."""
    c, s = np.cos(angles)[:, None], np.sin(angles)[:, None]
    dx1, dy1 = edges[:, 0] - origin[0], edges[:, 1] - origin[1]
    dx2, dy2 = edges[:, 2] - origin[0], edges[:, 3] - origin[1]
    return np.stack(
        [c * dx1 + s * dy1, -s * dx1 + c * dy1, c * dx2 + s * dy2, -s * dx2 + c * dy2], axis=2
    )


def _span(x0: FloatArray, x1: FloatArray) -> float:
    """Offset between lines in the combined sort key ``line * span + x`` (one sort, not two)."""
    if len(x0) == 0:
        return 1.0
    return float(max(np.abs(x0).max(), np.abs(x1).max())) * 4.0 + 1.0


def _chords(rot: FloatArray, ys: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
    x1, y1, x2, y2 = (rot[:, :, i, None] for i in range(4))
    lo, hi = np.minimum(y1, y2), np.maximum(y1, y2)
    a, e, k = np.nonzero((lo <= ys[:, None, :]) & (ys[:, None, :] < hi))
    t = (ys[a, k] - y1[a, e, 0]) / (y2[a, e, 0] - y1[a, e, 0])
    x = x1[a, e, 0] + t * (x2[a, e, 0] - x1[a, e, 0])
    g = a * ys.shape[1] + k
    order = np.argsort(g * _span(x, x) + x)
    g, x = g[order], x[order]
    return g[0::2], x[0::2], x[1::2]


def _edge_ranges(
    rot: FloatArray, lo_y: FloatArray, hi_y: FloatArray
) -> tuple[IntArray, FloatArray, FloatArray]:
    x1, y1, x2, y2 = (rot[:, :, i, None] for i in range(4))
    ymin, ymax = np.minimum(y1, y2), np.maximum(y1, y2)
    a, e, k = np.nonzero((ymax >= lo_y[:, None, :]) & (ymin <= hi_y[:, None, :]))
    ex1, ey1, ex2, ey2 = x1[a, e, 0], y1[a, e, 0], x2[a, e, 0], y2[a, e, 0]
    ya = np.maximum(np.minimum(ey1, ey2), lo_y[a, k])
    yb = np.minimum(np.maximum(ey1, ey2), hi_y[a, k])
    dy = ey2 - ey1
    flat = np.abs(dy) < 1e-12
    safe = np.where(flat, 1.0, dy)
    xa = np.where(flat, ex1, ex1 + (ya - ey1) / safe * (ex2 - ex1))
    xb = np.where(flat, ex2, ex1 + (yb - ey1) / safe * (ex2 - ex1))
    return a * lo_y.shape[1] + k, np.minimum(xa, xb), np.maximum(xa, xb)


def merge_ranges(
    g: IntArray, x0: FloatArray, x1: FloatArray
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Merge overlapping x-ranges per line ``g``; result sorted by line, then x."""
    span = _span(x0, x1)
    order = np.argsort(g * span + x0)
    g, x0, x1 = g[order], x0[order], x1[order]
    reach = np.maximum.accumulate(x1 + g * span) - g * span
    new = np.r_[True, (g[1:] != g[:-1]) | (x0[1:] > reach[:-1] + _EPS_M)]
    ends = np.r_[np.flatnonzero(new)[1:] - 1, len(g) - 1]
    return g[new], x0[new], reach[ends]


def continuations(g: IntArray, x0: FloatArray, x1: FloatArray) -> tuple[IntArray, IntArray]:
    """Pairs (i, j): interval j on the next line continues interval i's block (one-to-one)."""
    if len(g) < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    span = _span(x0, x1)
    key0, key1 = g * span + x0, g * span + x1
    lo = np.searchsorted(key1, (g + 1) * span + x0 + _EPS_M, side="right")
    hi = np.searchsorted(key0, (g + 1) * span + x1 - _EPS_M, side="left")
    plo = np.searchsorted(key1, (g - 1) * span + x0 + _EPS_M, side="right")
    phi = np.searchsorted(key0, (g - 1) * span + x1 - _EPS_M, side="left")
    succ, pred = np.maximum(hi - lo, 0), np.maximum(phi - plo, 0)
    i = np.flatnonzero(succ == 1)
    j = lo[i]
    ok = pred[j] == 1
    return i[ok], j[ok]


def line_positions(rot: FloatArray, spacing_m: float) -> tuple[FloatArray, IntArray]:
    """Per angle, the y of each line and the line count.

    Padded with NaN to (A, n_max + 1): the always-empty last column keeps the last line of one
    angle from looking adjacent to the first line of the next.
    """
    ys_all = np.concatenate([rot[:, :, 1], rot[:, :, 3]], axis=1)
    miny, maxy = ys_all.min(axis=1), ys_all.max(axis=1)
    height = maxy - miny
    n = np.maximum(1, np.ceil(height / spacing_m - 1e-9)).astype(np.int64)
    n_max = int(n.max())
    first = miny + (height - (n - 1) * spacing_m) / 2.0
    ys = first[:, None] + spacing_m * np.arange(n_max + 1, dtype=float)[None, :]
    ys[np.arange(n_max + 1)[None, :] >= n[:, None]] = np.nan
    return ys, n


def sweep_arrays(
    edges: FloatArray, origin: tuple[float, float], angles: FloatArray, spacing_m: float
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, IntArray]:
    """Merged intervals (global line, x0, x1) for every angle, plus line ys and counts."""
    rot = _rotate(edges, origin, angles)
    ys, n = line_positions(rot, spacing_m)
    half = spacing_m / 2.0
    parts = [
        _edge_ranges(rot, ys - half, ys + half),
        _chords(rot, ys - half),
        _chords(rot, ys + half),
    ]
    g = np.concatenate([p[0] for p in parts])
    x0 = np.concatenate([p[1] for p in parts])
    x1 = np.concatenate([p[2] for p in parts])
    if len(g) == 0:
        return g, x0, x1, ys, n
    g, x0, x1 = merge_ranges(g, x0, x1)
    n_line = n[g // ys.shape[1]]
    keep = (x1 - x0 >= _MIN_INTERVAL_M) | (n_line == 1)
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
    a_of = g // n_max
    flat_ys = ys.ravel()
    dy = flat_ys[g[j]] - flat_ys[g[i]]
    connect = (np.hypot(x0[i] - x0[j], dy) + np.hypot(x1[i] - x1[j], dy)) / 2.0
    count = np.bincount(a_of, minlength=n_angles).astype(float)
    cont = np.bincount(a_of[i], minlength=n_angles).astype(float)
    blocks = count - cont
    survey = np.bincount(a_of, weights=x1 - x0, minlength=n_angles)
    connect_sum = np.bincount(a_of[i], weights=connect, minlength=n_angles)
    hops = np.maximum(blocks - 1, 0)
    length = survey + connect_sum + hops * cost.swath_spacing_m
    turns = 2 * cont + 2 * hops
    out = length / cost.speed_mps + turns * cost.turn_time_s
    return np.asarray(out, dtype=float)


def sweep_costs(
    edges: FloatArray, origin: tuple[float, float], angles: FloatArray, cost: SweepCost
) -> FloatArray:
    """The sweep objective (seconds) for each of ``angles`` (radians)."""
    angles = np.atleast_1d(np.asarray(angles, dtype=float))
    if len(edges) == 0:
        return np.zeros(len(angles))
    g, x0, x1, ys, _ = sweep_arrays(edges, origin, angles, cost.swath_spacing_m)
    return costs_from_arrays(g, x0, x1, ys, cost)


def angle_grid(step_deg: float) -> FloatArray:
    return np.arange(0.0, math.pi, math.radians(step_deg))
