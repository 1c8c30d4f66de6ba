"""Lay square cells over a district in its UTM zone, clip them, merge slivers, give stable ids.

Rules (documented for users in the README):

* Cells are squares of ``cell_size_m`` aligned to multiples of the size from the origin of the
  district's UTM zone (zone chosen from the boundary centroid). Row ``r`` and column ``c`` are
  ``floor(northing / size)`` and ``floor(easting / size)``, so the id of a square depends only on
  the zone, the size and where the square is — rebuilding the same district gives the same ids,
  and a changed boundary keeps the ids of unchanged squares.
* Squares are clipped to the boundary (made valid first).
* A clipped piece smaller than ``sliver_fraction`` (10 %) of a full cell is a sliver. It is merged
  into the neighbouring non-sliver cell (sharing an edge, not just a corner) with the largest area;
  ties go to the smaller id. This runs in rounds, so a corner sliver whose only edge neighbours
  were slivers follows them into the cell they joined. Slivers that touch only slivers (a small
  islet cut by grid lines) are joined into the largest piece of their group; an islet that is a
  single sliver stays a cell of its own, so no part of the district is ever left without a cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from missions.errors import GridError
from missions.geo.crs import WGS84, utm_crs_for
from missions.geo.reader import repair_polygon

__all__ = ["Grid", "build_grid", "cell_id", "to_metric"]

_BLOCK = 32  # cells per side of the blocks the boundary is pre-clipped to
_MIN_PIECE_M2 = 1e-6  # pieces below this are touching artefacts, not area
_SLIVER_ROUNDS = 4

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Grid:
    """Cells in the metric CRS ``crs``: ``cell_id``, ``row``, ``col``, ``area_m2``, geometry."""

    cells: gpd.GeoDataFrame
    crs: CRS
    cell_size_m: float
    district_area_m2: float
    merged_slivers: int
    repaired_boundary_change: float


def cell_id(crs: CRS, cell_size_m: float, row: IntArray, col: IntArray) -> NDArray[np.str_]:
    """Stable ids such as ``49N-100-003731-025401`` (zone, size, column, row)."""
    info = crs.utm_zone or f"EPSG{crs.to_epsg()}"
    prefix = f"{info}-{cell_size_m:g}-"
    cols = np.char.zfill(col.astype(str), 6)
    rows = np.char.zfill(row.astype(str), 6)
    return np.char.add(np.char.add(np.char.add(prefix, cols), "-"), rows)


def to_metric(geoms: NDArray[np.object_], crs: CRS) -> NDArray[np.object_]:
    """WGS-84 geometries into ``crs`` (vectorised through one pyproj transformer)."""
    tf = Transformer.from_crs(WGS84, crs, always_xy=True)

    def apply(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = tf.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(geoms, apply), dtype=object)


def _polygonal(geoms: NDArray[np.object_]) -> NDArray[np.object_]:
    """Drop the line/point parts that clipping can leave where squares touch the boundary."""
    mixed = shapely.get_type_id(geoms) == 7  # GeometryCollection
    if mixed.any():
        fixed = [
            shapely.union_all([p for p in shapely.get_parts(g) if shapely.get_type_id(p) in (3, 6)])
            for g in geoms[mixed]
        ]
        geoms = geoms.copy()
        geoms[mixed] = fixed
    return geoms


def _clip_edges(
    boxes: NDArray[np.object_], rows: IntArray, cols: IntArray, boundary: shapely.Geometry
) -> NDArray[np.object_]:
    """Intersect edge squares with the boundary via per-block pieces (fast on big outlines)."""
    brow, bcol = rows // _BLOCK, cols // _BLOCK
    keys, inverse = np.unique(np.column_stack([brow, bcol]), axis=0, return_inverse=True)
    size = shapely.bounds(boxes[0])[2] - shapely.bounds(boxes[0])[0]
    span = size * _BLOCK
    blocks = shapely.box(
        keys[:, 1] * span, keys[:, 0] * span, (keys[:, 1] + 1) * span, (keys[:, 0] + 1) * span
    )
    pieces = shapely.intersection(boundary, blocks)
    return _polygonal(shapely.intersection(boxes, pieces[inverse.ravel()]))


def _edge_pairs(
    geoms: NDArray[np.object_], idx: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(source, neighbour) index pairs for ``geoms[idx]`` sharing an edge (not just a corner)."""
    tree = shapely.STRtree(geoms)
    pairs = tree.query(geoms[idx], predicate="intersects")
    src, dst = idx[pairs[0]], pairs[1]
    src, dst = src[src != dst], dst[src != dst]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(geoms[src]), shapely.boundary(geoms[dst]))
    )
    return src[shared > 1e-6], dst[shared > 1e-6]


def _best_targets(
    src: NDArray[np.int64],
    dst: NDArray[np.int64],
    areas: NDArray[np.float64],
    ids: NDArray[np.str_],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """One target per source: the largest neighbour, ties to the smaller id."""
    order = np.lexsort((ids[dst], -areas[dst], src))
    src, dst = src[order], dst[order]
    first = np.r_[True, src[1:] != src[:-1]]
    return src[first], dst[first]


def _union_into(
    geoms: NDArray[np.object_], src: NDArray[np.int64], dst: NDArray[np.int64]
) -> NDArray[np.object_]:
    """Union every ``geoms[src]`` into ``geoms[dst]`` in vectorised rounds (k-th per target)."""
    geoms = geoms.copy()
    order = np.argsort(dst, kind="stable")
    src, dst = src[order], dst[order]
    rank = np.arange(len(dst)) - np.searchsorted(dst, dst, side="left")
    for k in range(int(rank.max()) + 1 if len(rank) else 0):
        sel = rank == k
        geoms[dst[sel]] = shapely.union(geoms[dst[sel]], geoms[src[sel]])
    return geoms


def _merge_slivers(
    geoms: NDArray[np.object_], areas: NDArray[np.float64], ids: NDArray[np.str_], threshold: float
) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """Merge slivers away: (geoms, keep).

    A sliver goes into its largest edge-sharing non-sliver neighbour. Slivers with none (a
    small islet cut by grid lines) are joined into the largest piece of their connected group;
    an islet that is one sliver stays a cell of its own.
    """
    sliver = areas < threshold
    keep = np.ones(len(geoms), dtype=bool)
    # rounds: a corner sliver touches full cells only once its side neighbours merged into them
    for _ in range(_SLIVER_ROUNDS):
        left = sliver & keep
        if not left.any():
            return geoms, keep
        src, dst = _edge_pairs(geoms, np.flatnonzero(left))
        ok = keep[dst] & ~sliver[dst]
        if not ok.any():
            break
        s1, d1 = _best_targets(src[ok], dst[ok], areas, ids)
        geoms = _union_into(geoms, s1, d1)
        keep[s1] = False
    return _merge_sliver_groups(geoms, keep, sliver & keep, areas, ids)


def _merge_sliver_groups(
    geoms: NDArray[np.object_],
    keep: NDArray[np.bool_],
    left: NDArray[np.bool_],
    areas: NDArray[np.float64],
    ids: NDArray[np.str_],
) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """Slivers linked only to slivers: each connected group into its largest member."""
    if not left.any():
        return geoms, keep
    src, dst = _edge_pairs(geoms, np.flatnonzero(left))
    among = left[dst]
    if not among.any():
        return geoms, keep
    n = len(geoms)
    graph = coo_matrix((np.ones(among.sum()), (src[among], dst[among])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    members = np.flatnonzero(left)
    members = members[np.lexsort((ids[members], -areas[members], label[members]))]
    head = np.r_[True, label[members][1:] != label[members][:-1]]
    leader = members[head][np.cumsum(head) - 1]
    moved = members != leader
    keep = keep.copy()
    keep[members[moved]] = False
    return _union_into(geoms, members[moved], leader[moved]), keep


def build_grid(
    boundary_wgs84: shapely.Geometry, cell_size_m: float = 100.0, *, sliver_fraction: float = 0.1
) -> Grid:
    """Unit grid over a district boundary given in WGS-84 (polygon or multipolygon)."""
    if not cell_size_m > 0:
        raise GridError(f"cell size must be positive, got {cell_size_m}; try --cell-size 100")
    if boundary_wgs84 is None or shapely.is_empty(boundary_wgs84):
        raise GridError(
            "the district boundary is empty; import one with `nestpatrol import boundary`"
        )
    boundary, change = (
        repair_polygon(boundary_wgs84)
        if not shapely.is_valid(boundary_wgs84)
        else (boundary_wgs84, 0.0)
    )
    if boundary is None:
        raise GridError("the district boundary has no area; check the boundary file")
    centroid = shapely.centroid(boundary)
    crs = utm_crs_for(float(centroid.x), float(centroid.y))
    metric = to_metric(np.array([boundary], dtype=object), crs)[0]
    if not shapely.is_valid(metric):
        metric = shapely.make_valid(metric)
    shapely.prepare(metric)
    minx, miny, maxx, maxy = shapely.bounds(metric)
    c0, c1 = int(np.floor(minx / cell_size_m)), int(np.ceil(maxx / cell_size_m))
    r0, r1 = int(np.floor(miny / cell_size_m)), int(np.ceil(maxy / cell_size_m))
    if (c1 - c0) * (r1 - r0) > 50_000_000:
        raise GridError(
            f"{(c1 - c0) * (r1 - r0):,} candidate cells: the boundary is too large for "
            f"{cell_size_m:g} m cells, or not in degrees; check --input-crs "
            "or use a larger --cell-size"
        )
    rr, cc = np.meshgrid(
        np.arange(r0, r1, dtype=np.int64), np.arange(c0, c1, dtype=np.int64), indexing="ij"
    )
    rows, cols = rr.ravel(), cc.ravel()
    boxes = shapely.box(
        cols * cell_size_m, rows * cell_size_m, (cols + 1) * cell_size_m, (rows + 1) * cell_size_m
    )
    hit = shapely.intersects(metric, boxes)
    rows, cols, boxes = rows[hit], cols[hit], boxes[hit]
    inside = shapely.contains_properly(metric, boxes)
    geoms = boxes.copy()
    edge = ~inside
    if edge.any():
        geoms[edge] = _clip_edges(boxes[edge], rows[edge], cols[edge], metric)
    areas = shapely.area(geoms)
    real = areas > _MIN_PIECE_M2
    rows, cols, geoms, areas = rows[real], cols[real], geoms[real], areas[real]
    ids = cell_id(crs, cell_size_m, rows, cols)
    geoms, keep = _merge_slivers(geoms, areas, ids, sliver_fraction * cell_size_m**2)
    frame = gpd.GeoDataFrame(
        {"cell_id": ids[keep], "row": rows[keep], "col": cols[keep]},
        geometry=geoms[keep],
        crs=crs,
    )
    frame["area_m2"] = frame.geometry.area
    return Grid(
        cells=frame.reset_index(drop=True),
        crs=crs,
        cell_size_m=float(cell_size_m),
        district_area_m2=float(shapely.area(metric)),
        merged_slivers=int((~keep).sum()),
        repaired_boundary_change=float(change),
    )
