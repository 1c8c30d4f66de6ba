"""Transit legs that go around no-fly zones: shortest paths on a visibility graph.

The keep-out area (zones grown by a margin) is a union of polygons. The shortest path between two
points outside it bends only at convex corners of those polygons, so the graph's nodes are those
corners and its edges the corner pairs that see each other; a query adds its two end points.
Blocking is tested against the keep-out area shrunk by a hair, so that a path may run along an
edge of the grown outline (which is still ``margin_m`` from the zone itself) but never through it.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Sequence

import networkx as nx
import numpy as np
import shapely
from numpy.typing import NDArray

from missions.planning.errors import PlanningError

__all__ = ["XY", "TransitPlanner", "path_length_m"]

XY = tuple[float, float]
FloatArray = NDArray[np.float64]

_SHRINK_M = 0.05  # touching the grown outline is allowed, entering it is not


def path_length_m(path: Sequence[XY]) -> float:
    """Length of a polyline in metres."""
    return float(sum(math.dist(p, q) for p, q in itertools.pairwise(path)))


def _convex_corners(obstacles: shapely.Geometry) -> FloatArray:
    corners: list[FloatArray] = []
    for poly in shapely.get_parts(obstacles):
        if shapely.is_empty(poly) or shapely.get_type_id(poly) != 3:
            continue
        ring = np.asarray(shapely.get_coordinates(shapely.orient_polygons(poly).exterior))[:-1]
        if len(ring) < 3:
            continue
        prev, nxt = np.roll(ring, 1, axis=0), np.roll(ring, -1, axis=0)
        a, b = ring - prev, nxt - ring
        cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
        corners.append(ring[cross > 1e-9])
    return np.concatenate(corners) if corners else np.empty((0, 2))


class TransitPlanner:
    """Shortest obstacle-free paths in the planning CRS among fixed keep-out polygons.

    Build one per set of active zones (the schedule caches them per time window); queries are
    then a few vectorised visibility tests plus a Dijkstra over the corners.
    """

    def __init__(self, keep_out: shapely.Geometry) -> None:
        self.keep_out = keep_out
        empty_in = bool(shapely.is_empty(keep_out))
        self._blocker = keep_out if empty_in else shapely.buffer(keep_out, -_SHRINK_M)
        self._empty = bool(shapely.is_empty(self._blocker))
        if not self._empty:
            shapely.prepare(self._blocker)
        parts = [] if self._empty else list(shapely.get_parts(self._blocker))
        centres = [shapely.centroid(p) for p in parts]
        self._centres = [(float(c.x), float(c.y)) for c in centres]
        self._radii = [
            float(shapely.hausdorff_distance(c, shapely.get_exterior_ring(p))) + 1.0
            for c, p in zip(centres, parts, strict=True)
        ]
        self.corners = _convex_corners(keep_out) if not self._empty else np.empty((0, 2))
        self.graph: nx.Graph[int] = nx.Graph()
        n = len(self.corners)
        self.graph.add_nodes_from(range(n))
        if n > 1:
            i, j = np.triu_indices(n, k=1)
            clear = self.clear_mask(self.corners[i], self.corners[j])
            length = np.hypot(*(self.corners[i] - self.corners[j]).T)
            self.graph.add_weighted_edges_from(
                zip(i[clear].tolist(), j[clear].tolist(), length[clear].tolist(), strict=True)
            )

    def clear_mask(self, a: FloatArray, b: FloatArray) -> NDArray[np.bool_]:
        """Per row pair of ``a`` and ``b``: does the straight segment avoid the keep-out?

        Segments that pass no part's bounding circle are clear without a geometric test
        (most of them, over a district with a few zones).
        """
        a, b = np.atleast_2d(a), np.atleast_2d(b)
        out = np.ones(len(a), dtype=bool)
        if self._empty or len(a) == 0:
            return out
        near = np.zeros(len(a), dtype=bool)
        d = b - a
        dd = np.maximum(np.einsum("ij,ij->i", d, d), 1e-12)
        for (cx, cy), r in zip(self._centres, self._radii, strict=True):
            t = np.clip(((cx - a[:, 0]) * d[:, 0] + (cy - a[:, 1]) * d[:, 1]) / dd, 0.0, 1.0)
            gap = np.hypot(a[:, 0] + t * d[:, 0] - cx, a[:, 1] + t * d[:, 1] - cy)
            near |= gap <= r
        idx = np.flatnonzero(near)
        if len(idx):
            lines = shapely.linestrings(np.stack([a[idx], b[idx]], axis=1))
            out[idx] = ~shapely.intersects(self._blocker, lines)
        return out

    def is_clear(self, a: XY, b: XY) -> bool:
        return bool(self.clear_mask(np.array(a, dtype=float), np.array(b, dtype=float))[0])

    def inside(self, point: XY) -> bool:
        """Whether a point lies inside the keep-out area (cannot be a start or end point)."""
        return not self._empty and bool(shapely.intersects(self._blocker, shapely.Point(point)))

    def _check_free(self, point: XY, what: str) -> None:
        if self.inside(point):
            raise PlanningError(
                f"{what} at ({point[0]:.1f}, {point[1]:.1f}) m lies inside a no-fly zone or its "
                "safety margin; move it out of the zone or lower the margin"
            )

    def _visible(self, point: XY) -> tuple[NDArray[np.int64], FloatArray]:
        if len(self.corners) == 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        p = np.broadcast_to(np.asarray(point, dtype=float), self.corners.shape)
        idx = np.flatnonzero(self.clear_mask(p, self.corners))
        return idx, np.hypot(*(self.corners[idx] - p[: len(idx)]).T)

    def _dijkstra_from(self, point: XY) -> tuple[FloatArray, NDArray[np.int64]]:
        """Distance from ``point`` to every corner and the previous corner (-1: seen directly)."""
        n = len(self.corners)
        dist, prev = np.full(n, math.inf), np.full(n, -2, dtype=np.int64)
        idx, d0 = self._visible(point)
        heap = [(float(d), int(i), -1) for i, d in zip(idx, d0, strict=True)]
        heapq.heapify(heap)
        while heap:
            d, u, p = heapq.heappop(heap)
            if d >= dist[u]:
                continue
            dist[u], prev[u] = d, p
            for v, data in self.graph.adj[u].items():
                nd = d + data["weight"]
                if nd < dist[v]:
                    heapq.heappush(heap, (nd, v, u))
        return dist, prev

    def path(self, a: XY, b: XY) -> list[XY]:
        """Shortest path from ``a`` to ``b`` around the keep-out area, end points included."""
        if self.is_clear(a, b):
            return [a, b]
        self._check_free(a, "transit start")
        self._check_free(b, "transit end")
        dist, prev = self._dijkstra_from(a)
        idx, d_end = self._visible(b)
        total = dist[idx] + d_end
        if len(idx) == 0 or not np.isfinite(total).any():
            raise PlanningError(
                f"no path from ({a[0]:.0f}, {a[1]:.0f}) to ({b[0]:.0f}, {b[1]:.0f}) m around the "
                "no-fly zones; the target is enclosed — check the zones or the margin"
            )
        u = int(idx[int(np.argmin(total))])
        corners: list[XY] = []
        while u >= 0:
            corners.append((float(self.corners[u, 0]), float(self.corners[u, 1])))
            u = int(prev[u])
        return [a, *reversed(corners), b]

    def distances_from(self, origin: XY, points: FloatArray) -> FloatArray:
        """No-fly-aware distance from ``origin`` to each row of ``points`` (inf: unreachable).

        Straight where the segment is clear; otherwise the shortest corner path to the best
        corner the point sees (exact: the last bend of a shortest path is visible from the end).
        """
        points = np.atleast_2d(np.asarray(points, dtype=float))
        out = np.hypot(points[:, 0] - origin[0], points[:, 1] - origin[1])
        blocked = np.flatnonzero(~self.clear_mask(np.broadcast_to(origin, points.shape), points))
        if len(blocked) == 0:
            return out
        dist, _ = self._dijkstra_from(origin)
        reach = np.flatnonzero(np.isfinite(dist))
        out[blocked] = math.inf
        if len(reach) == 0:
            return out
        p = points[blocked]
        bound = dist[reach][None, :] + np.hypot(
            p[:, None, 0] - self.corners[reach][None, :, 0],
            p[:, None, 1] - self.corners[reach][None, :, 1],
        )
        chunk = max(1, 200_000 // len(reach))
        for s0 in range(0, len(blocked), chunk):
            q = p[s0 : s0 + chunk]
            a = np.repeat(q, len(reach), axis=0)
            b = np.tile(self.corners[reach], (len(q), 1))
            seen = self.clear_mask(a, b).reshape(len(q), len(reach))
            best = np.where(seen, bound[s0 : s0 + chunk], math.inf).min(axis=1)
            out[blocked[s0 : s0 + chunk]] = best
        return out
