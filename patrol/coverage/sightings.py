"""Which cells a batch of frames (one flight) imaged, and when.

A cell counts as seen by a flight when the union of the flight's frame footprints covers at least
``min_fraction`` of it (default 90 %). The fraction is measured on a regular k × k lattice of
sample points per cell (points outside a clipped cell do not count), which keeps the whole
computation vectorised: one STRtree query of all sample points against all footprints. The time a
cell was seen is the latest time any frame covered one of its sample points.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from patrol.errors import PatrolError

__all__ = ["CoverageConfig", "cells_seen"]


@dataclass(frozen=True)
class CoverageConfig:
    samples_per_side: int = 4
    min_fraction: float = 0.9

    def __post_init__(self) -> None:
        if self.samples_per_side < 1 or not 0 < self.min_fraction <= 1:
            raise PatrolError(
                f"bad coverage config {self}: samples_per_side ≥ 1 and 0 < min_fraction ≤ 1"
            )


def _sample_points(
    geoms: NDArray[np.object_], k: int
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """k × k lattice points over each geometry's bbox that fall inside it: (owner, x, y)."""
    bounds = shapely.bounds(geoms)
    frac = (np.arange(k) + 0.5) / k
    gx, gy = np.meshgrid(frac, frac)
    fx, fy = gx.ravel(), gy.ravel()
    owner = np.repeat(np.arange(len(geoms)), k * k)
    x = bounds[owner, 0] + np.tile(fx, len(geoms)) * (bounds[owner, 2] - bounds[owner, 0])
    y = bounds[owner, 1] + np.tile(fy, len(geoms)) * (bounds[owner, 3] - bounds[owner, 1])
    inside = shapely.contains_xy(geoms[owner], x, y)
    return owner[inside], x[inside], y[inside]


def cells_seen(
    cells: gpd.GeoDataFrame,
    footprints: NDArray[np.object_],
    taken_at: pd.DatetimeIndex | NDArray[np.datetime64],
    config: CoverageConfig | None = None,
) -> pd.DataFrame:
    """Cells (metric frame with ``cell_id``) imaged by ``footprints`` (same CRS) of one flight.

    Returns one row per seen cell: ``cell_id``, ``seen_at`` (UTC), ``fraction``.
    """
    config = config or CoverageConfig()
    times = pd.DatetimeIndex(taken_at)
    if len(times) != len(footprints):
        raise PatrolError(
            f"{len(footprints)} footprints but {len(times)} capture times: give one time per frame"
        )
    empty = pd.DataFrame({"cell_id": [], "seen_at": pd.DatetimeIndex([], tz="UTC"), "fraction": []})
    if len(footprints) == 0 or len(cells) == 0:
        return empty
    geoms = np.asarray(cells.geometry.values, dtype=object)
    fp_tree = shapely.STRtree(footprints)
    candidates = np.unique(fp_tree.query(geoms, predicate="intersects")[0])
    if len(candidates) == 0:
        return empty
    owner, x, y = _sample_points(geoms[candidates], config.samples_per_side)
    point_idx, fp_idx = fp_tree.query(shapely.points(x, y), predicate="within")
    stamp = times.tz_convert("UTC") if times.tz is not None else times.tz_localize("UTC")
    covered = pd.DataFrame({"point": point_idx, "t": stamp[fp_idx]}).groupby("point")["t"].max()
    per_point = pd.DataFrame({"owner": owner})
    per_point["t"] = covered.reindex(pd.RangeIndex(len(owner))).array  # NaT where uncovered
    grouped = per_point.groupby("owner")
    fraction = grouped["t"].count() / grouped.size()
    ok = fraction[fraction >= config.min_fraction].index.to_numpy()
    return pd.DataFrame(
        {
            "cell_id": cells["cell_id"].to_numpy()[candidates[ok]],
            "seen_at": pd.DatetimeIndex(grouped["t"].max().loc[ok]),
            "fraction": fraction.loc[ok].to_numpy(),
        }
    )
