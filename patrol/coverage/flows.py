"""Coverage use cases on the database: ingest flights, compute the coverage state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import geopandas as gpd
from pyproj import CRS
from sqlalchemy import Engine

from missions.storage import BBox, load_cells, load_grid_info
from patrol.coverage.stats import coverage_state
from patrol.errors import PatrolError
from patrol.storage.records import load_sightings

__all__ = ["CoverageView", "current_coverage"]


@dataclass(frozen=True)
class CoverageView:
    state: gpd.GeoDataFrame  # metric cells with the coverage columns
    cell_size_m: float
    at: datetime
    window_start: datetime
    sightings: int


def current_coverage(
    engine: Engine, *, at: datetime, window_hours: float = 24.0, bbox: BBox | None = None
) -> CoverageView:
    """Coverage of the stored cells (all, or those in ``bbox``) at ``at`` over ``window_hours``."""
    info = load_grid_info(engine)
    if info is None:
        raise PatrolError("no grid in the database; run `nestpatrol grid build` first")
    if window_hours <= 0:
        raise PatrolError(f"window must be positive, got {window_hours} h; try --window-hours 24")
    cells = load_cells(engine, bbox=bbox).to_crs(CRS.from_epsg(info.crs_epsg))
    sightings = load_sightings(engine)
    start = at - timedelta(hours=window_hours)
    state = coverage_state(cells, sightings, now=at, window_start=start)
    return CoverageView(
        gpd.GeoDataFrame(state, crs=cells.crs), info.cell_size_m, at, start, len(sightings)
    )
