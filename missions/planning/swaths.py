"""Swaths: survey lines over an area at a sweep angle, grouped into boustrophedon blocks.

Stage one of the coverage chain (swaths → blocks → route → path, after Fields2Cover). Work
happens in a frame rotated by the sweep angle, so survey lines run along +x. Line ``k`` images
the band of height ``spacing`` around it (the outer lines' bands reach out to the area's edge,
which their images cover); its interval is the x-extent of the area inside the band (not only on
the centre line), so narrow spikes between two lines are still imaged. How much of an interval
is actually flown is decided later (:func:`~missions.planning.sweepcost.flown_extent`).
Intervals are clipped by the keep-out area: the camera never flies through a no-fly zone.

Consecutive lines whose intervals overlap one-to-one form a *block* flown back and forth without
leaving it (a boustrophedon cell); a split or merge of intervals (a hole, a concave notch, a
separate part) starts a new block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from missions.planning.sweepcost import sweep_arrays

__all__ = [
    "Block",
    "Frame",
    "Interval",
    "Lines",
    "area_edges",
    "blocks_for",
    "sweep_lines",
]

FloatArray = NDArray[np.float64]
_MIN_INTERVAL_M = 1.0  # shorter pieces are clipping artefacts
_EPS_M = 1e-6  # as in sweepcost: touching is not overlapping


@dataclass(frozen=True)
class Frame:
    """Rotation by ``angle_rad`` about ``origin``: world → sweep frame and back."""

    angle_rad: float
    origin: tuple[float, float]

    def to_sweep(self, xy: FloatArray) -> FloatArray:
        c, s = math.cos(self.angle_rad), math.sin(self.angle_rad)
        d = np.asarray(xy, dtype=float) - self.origin
        return np.column_stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]])

    def to_world(self, xy: FloatArray) -> FloatArray:
        c, s = math.cos(self.angle_rad), math.sin(self.angle_rad)
        q = np.asarray(xy, dtype=float)
        x = c * q[:, 0] - s * q[:, 1] + self.origin[0]
        y = s * q[:, 0] + c * q[:, 1] + self.origin[1]
        return np.column_stack([x, y])

    def geometry_to_sweep(self, geom: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(geom, self.to_sweep)


@dataclass(frozen=True)
class Interval:
    """Part of survey line ``line`` (y = ``y``) from ``x0`` to ``x1`` in the sweep frame."""

    line: int
    y: float
    x0: float
    x1: float

    @property
    def length_m(self) -> float:
        return self.x1 - self.x0


@dataclass(frozen=True)
class Block:
    """Intervals on consecutive lines, each overlapping the next: flown back and forth."""

    intervals: tuple[Interval, ...]


def _clip(pieces: list[Interval], keep_out: shapely.Geometry | None) -> list[Interval]:
    if keep_out is None or shapely.is_empty(keep_out) or not pieces:
        return pieces
    lines = shapely.linestrings([[(p.x0, p.y), (p.x1, p.y)] for p in pieces])
    hit = shapely.intersects(lines, keep_out)
    out: list[Interval] = []
    for piece, line, h in zip(pieces, lines, hit, strict=True):
        if not h:
            out.append(piece)
            continue
        rest = shapely.get_parts(shapely.difference(line, keep_out))
        for part in rest:
            xs = shapely.get_coordinates(part)[:, 0]
            if len(xs) and xs.max() - xs.min() >= _MIN_INTERVAL_M:
                out.append(Interval(piece.line, piece.y, float(xs.min()), float(xs.max())))
    return sorted(out, key=lambda iv: (iv.line, iv.x0))


def area_edges(area: shapely.Geometry) -> FloatArray:
    """All ring edges of a (multi)polygon as rows ``x1, y1, x2, y2`` (computed once per area)."""
    rings = shapely.get_rings(shapely.get_parts(area))
    coords, idx = shapely.get_coordinates(rings, return_index=True)
    same = idx[1:] == idx[:-1]
    return np.column_stack([coords[:-1][same], coords[1:][same]])


@dataclass(frozen=True)
class Lines:
    """Intervals as arrays sorted by line then x: line index, x0, x1; and each line's y."""

    k: NDArray[np.int64]
    x0: FloatArray
    x1: FloatArray
    ys: FloatArray

    def to_intervals(self) -> list[Interval]:
        return [
            Interval(int(a), float(self.ys[a]), float(b), float(c))
            for a, b, c in zip(self.k, self.x0, self.x1, strict=True)
        ]

    @staticmethod
    def of(intervals: list[Interval], ys: FloatArray) -> Lines:
        return Lines(
            np.array([iv.line for iv in intervals], dtype=np.int64),
            np.array([iv.x0 for iv in intervals], dtype=float),
            np.array([iv.x1 for iv in intervals], dtype=float),
            ys,
        )


def sweep_lines(
    edges: FloatArray,
    frame: Frame,
    spacing_m: float,
    keep_out: shapely.Geometry | None = None,
    across_m: float | None = None,
) -> Lines:
    """Survey-line intervals over the area with world-frame ``edges``, in ``frame``.

    Lines are centred on the area's extent across the sweep: ``ceil((height - across) /
    spacing) + 1`` of them, the fewest whose images (``across_m`` wide, default the spacing)
    cover it. A band's interval is the x-extent of the area inside the band (edge pieces inside
    it plus chords along its borders; overlapping ranges merged). ``keep_out`` (in the sweep
    frame) is cut out of the intervals.
    """
    angles = np.array([frame.angle_rad])
    g, x0, x1, ys, n = sweep_arrays(edges, frame.origin, angles, spacing_m, across_m)
    lines = Lines(g, x0, x1, ys[0, : int(n[0])] if len(n) else np.empty(0))
    if keep_out is None or shapely.is_empty(keep_out):
        return lines
    return Lines.of(_clip(lines.to_intervals(), keep_out), lines.ys)


def blocks_for(intervals: list[Interval]) -> list[Block]:
    """Group intervals into boustrophedon blocks (one-to-one overlap of consecutive lines)."""
    by_line: dict[int, list[int]] = {}
    for i, iv in enumerate(intervals):
        by_line.setdefault(iv.line, []).append(i)
    succ: dict[int, list[int]] = {i: [] for i in range(len(intervals))}
    pred: dict[int, list[int]] = {i: [] for i in range(len(intervals))}
    for line, members in by_line.items():
        for i in members:
            a = intervals[i]
            for j in by_line.get(line + 1, []):
                b = intervals[j]
                if a.x0 + _EPS_M < b.x1 and b.x0 + _EPS_M < a.x1:
                    succ[i].append(j)
                    pred[j].append(i)
    blocks: list[Block] = []
    for i in range(len(intervals)):
        if len(pred[i]) == 1 and len(succ[pred[i][0]]) == 1:
            continue  # continues its predecessor's block
        chain = [i]
        while len(succ[chain[-1]]) == 1 and len(pred[succ[chain[-1]][0]]) == 1:
            chain.append(succ[chain[-1]][0])
        blocks.append(Block(tuple(intervals[c] for c in chain)))
    return blocks
