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
    "block_chains",
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
        out = np.empty((len(q), 2))
        out[:, 0] = c * q[:, 0] - s * q[:, 1] + self.origin[0]
        out[:, 1] = s * q[:, 0] + c * q[:, 1] + self.origin[1]
        return out

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
    if shapely.get_type_id(area) == 3 and shapely.get_num_interior_rings(area) == 0:
        coords = shapely.get_coordinates(area)  # one ring: the exterior, closed
        return np.concatenate([coords[:-1], coords[1:]], axis=1)
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
    chains = block_chains(
        [iv.line for iv in intervals], [iv.x0 for iv in intervals], [iv.x1 for iv in intervals]
    )
    return [Block(tuple(intervals[c] for c in chain)) for chain in chains]


def block_chains(k: list[int], x0: list[float], x1: list[float]) -> list[list[int]]:
    """:func:`blocks_for` on plain lists (line, x0, x1 per interval): indices per block.

    Blocks come in the order of their first interval; each lists its intervals line by line.
    """
    n = len(k)
    by_line: dict[int, list[int]] = {}
    for i, line in enumerate(k):
        by_line.setdefault(line, []).append(i)
    succ: list[list[int]] = [[] for _ in range(n)]
    pred: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        a0, a1 = x0[i], x1[i]
        for j in by_line.get(k[i] + 1, ()):
            if a0 + _EPS_M < x1[j] and x0[j] + _EPS_M < a1:
                succ[i].append(j)
                pred[j].append(i)
    blocks: list[list[int]] = []
    for i in range(n):
        if len(pred[i]) == 1 and len(succ[pred[i][0]]) == 1:
            continue  # continues its predecessor's block
        chain = [i]
        while len(succ[chain[-1]]) == 1 and len(pred[succ[chain[-1]][0]]) == 1:
            chain.append(succ[chain[-1]][0])
        blocks.append(chain)
    return blocks
