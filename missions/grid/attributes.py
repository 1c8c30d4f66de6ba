"""Per-cell attributes: jurisdiction, priority class, revisit target and the no-fly flag.

* jurisdiction: the one covering the largest part of the cell; a cell touching none (a boundary
  drawn slightly inside the district's) takes the nearest one, so every cell has a jurisdiction
  whenever any exist.
* priority: the most demanding class among priority areas overlapping the cell with positive
  area; ``standard`` where none does.
* revisit target: from the class (core 2 h, standard 24 h, low 7 d by default).
* no_fly: the cell centre lies inside a no-fly zone that restricts patrol flight at all times —
  no time window, and a floor (if any) below the altitude ceiling. Time-windowed zones are the
  planner's business at flight time, not a property of the cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from missions.geo.layers import DEFAULT_REVISIT_S, PriorityClass
from missions.grid.build import Grid, to_metric

__all__ = ["GridAttributes", "assign_attributes"]


@dataclass(frozen=True)
class GridAttributes:
    """The layers cells draw on (WGS-84 frames as read by ``read_layer``)."""

    jurisdictions: gpd.GeoDataFrame | None = None
    priority_areas: gpd.GeoDataFrame | None = None
    nofly: gpd.GeoDataFrame | None = None
    revisit_s: Mapping[PriorityClass, int] = field(default_factory=lambda: dict(DEFAULT_REVISIT_S))
    ceiling_m: float = 120.0


def _metric(frame: gpd.GeoDataFrame | None, grid: Grid) -> NDArray[np.object_]:
    if frame is None or len(frame) == 0:
        return np.empty(0, dtype=object)
    return to_metric(np.asarray(frame.geometry.values, dtype=object), grid.crs)


def _largest_overlap(cells: NDArray[np.object_], zones: NDArray[np.object_]) -> NDArray[np.int64]:
    """Index of the zone overlapping each cell most (-1 where none overlaps)."""
    out = np.full(len(cells), -1, dtype=np.int64)
    if len(zones) == 0:
        return out
    tree = shapely.STRtree(zones)
    ci, zi = tree.query(cells, predicate="intersects")
    if len(ci) == 0:
        return out
    shapely.prepare(zones)
    whole = shapely.contains_properly(zones[zi], cells[ci])
    area = shapely.area(cells[ci])
    partial = ~whole
    area[partial] = shapely.area(shapely.intersection(cells[ci[partial]], zones[zi[partial]]))
    order = np.lexsort((zi, -area, ci))
    ci, zi, area = ci[order], zi[order], area[order]
    first = np.r_[True, ci[1:] != ci[:-1]] & (area > 0)
    out[ci[first]] = zi[first]
    return out


def _jurisdictions(
    cells: NDArray[np.object_], zones: NDArray[np.object_], codes: NDArray[np.object_]
) -> NDArray[np.object_]:
    best = _largest_overlap(cells, zones)
    missing = best < 0
    if missing.any() and len(zones):
        tree = shapely.STRtree(zones)
        ci, zi = tree.query_nearest(cells[missing], all_matches=False)
        idx = np.flatnonzero(missing)
        best[idx[ci]] = zi
    out = np.full(len(cells), None, dtype=object)
    found = best >= 0
    out[found] = codes[best[found]]
    return out


def _priorities(
    cells: NDArray[np.object_], zones: NDArray[np.object_], classes: list[PriorityClass]
) -> NDArray[np.object_]:
    rank = np.full(len(cells), PriorityClass.STANDARD.rank, dtype=np.int64)
    if len(zones):
        tree = shapely.STRtree(zones)
        ci, zi = tree.query(cells, predicate="intersects")
        overlap = ~shapely.touches(cells[ci], zones[zi])
        ci, zi = ci[overlap], zi[overlap]
        zone_rank = np.array([c.rank for c in classes], dtype=np.int64)
        best = pd.Series(zone_rank[zi]).groupby(ci).max()
        rank[best.index.to_numpy()] = best.to_numpy()
    by_rank = {c.rank: c.value for c in PriorityClass}
    return pd.Series(rank).map(by_rank).to_numpy(dtype=object)


def _permanent_nofly(frame: gpd.GeoDataFrame, ceiling_m: float) -> NDArray[np.bool_]:
    no_window = frame[["active_from", "active_to", "daily_start", "daily_end"]].isna().all(axis=1)
    floor = pd.to_numeric(frame["floor_m"], errors="coerce")
    low_enough = floor.isna() | (floor < ceiling_m)
    return np.asarray((no_window & low_enough).to_numpy(), dtype=bool)


def _nofly_flags(cells: NDArray[np.object_], zones: NDArray[np.object_]) -> NDArray[np.bool_]:
    flags = np.zeros(len(cells), dtype=bool)
    if len(zones):
        centres = shapely.centroid(cells)
        tree = shapely.STRtree(zones)
        ci, _ = tree.query(centres, predicate="within")
        flags[ci] = True
    return flags


def assign_attributes(grid: Grid, attrs: GridAttributes) -> gpd.GeoDataFrame:
    """The grid's cells with ``jurisdiction``, ``priority``, ``revisit_target_s`` and ``no_fly``."""
    cells = grid.cells.copy()
    geoms = np.asarray(cells.geometry.values, dtype=object)
    jur = attrs.jurisdictions
    codes = (
        np.asarray(jur["code"].to_numpy(), dtype=object)
        if jur is not None
        else np.empty(0, dtype=object)
    )
    cells["jurisdiction"] = _jurisdictions(geoms, _metric(jur, grid), codes)
    pri = attrs.priority_areas
    classes = [PriorityClass(v) for v in pri["priority"]] if pri is not None else []
    cells["priority"] = _priorities(geoms, _metric(pri, grid), classes)
    targets = {c.value: int(attrs.revisit_s[c]) for c in PriorityClass}
    cells["revisit_target_s"] = cells["priority"].map(targets).astype(np.int64)
    nofly = attrs.nofly
    if nofly is not None and len(nofly):
        nofly = nofly[_permanent_nofly(nofly, attrs.ceiling_m)]
    cells["no_fly"] = _nofly_flags(geoms, _metric(nofly, grid))
    return cells
