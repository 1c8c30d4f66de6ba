"""Record flights with their frames, and derive cell sightings from the frames' footprints."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from sqlalchemy import Engine, delete, insert, select

from missions.geo.crs import WGS84
from missions.storage import BBox, load_cells, load_grid_info
from patrol.coverage.sightings import CoverageConfig, cells_seen
from patrol.errors import PatrolError
from patrol.storage.models import CellSighting, Flight, Frame

__all__ = ["FlightRecord", "FrameRecord", "load_sightings", "record_flight"]


@dataclass(frozen=True)
class FrameRecord:
    frame_id: str
    taken_at: datetime
    footprint: shapely.Geometry  # WGS-84 polygon
    lon: float | None = None
    lat: float | None = None
    alt_m: float | None = None
    image_path: str | None = None


@dataclass(frozen=True)
class FlightRecord:
    flight_id: str
    started_at: datetime
    ended_at: datetime
    outcome: str = "completed"
    nest_id: str | None = None
    sortie_id: str | None = None
    battery_used_fraction: float | None = None
    track: shapely.Geometry | None = None
    track_times: list[float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _sightings_for(
    engine: Engine, frames: list[FrameRecord], config: CoverageConfig
) -> pd.DataFrame:
    info = load_grid_info(engine)
    if info is None:
        raise PatrolError("no grid in the database; run `nestpatrol grid build` first")
    footprints = np.asarray([f.footprint for f in frames], dtype=object)
    minx, miny, maxx, maxy = shapely.total_bounds(footprints)
    cells = load_cells(engine, bbox=BBox(minx, miny, maxx, maxy))
    crs = CRS.from_epsg(info.crs_epsg)
    metric_cells = cells.to_crs(crs)
    metric_fp = np.asarray(gpd.GeoSeries(footprints, crs=WGS84).to_crs(crs).values, dtype=object)
    times = pd.DatetimeIndex([f.taken_at for f in frames])
    return cells_seen(metric_cells, metric_fp, times, config)


def record_flight(
    engine: Engine,
    flight: FlightRecord,
    frames: list[FrameRecord],
    *,
    config: CoverageConfig | None = None,
) -> int:
    """Store (or replace) a flight and its frames; returns the number of cells it imaged."""
    config = config or CoverageConfig()
    seen = _sightings_for(engine, frames, config) if frames else pd.DataFrame()
    with engine.begin() as conn:
        conn.execute(delete(CellSighting).where(CellSighting.flight_id == flight.flight_id))
        conn.execute(delete(Frame).where(Frame.flight_id == flight.flight_id))
        conn.execute(delete(Flight).where(Flight.flight_id == flight.flight_id))
        conn.execute(
            insert(Flight),
            [
                {
                    "flight_id": flight.flight_id,
                    "nest_id": flight.nest_id,
                    "sortie_id": flight.sortie_id,
                    "started_at": flight.started_at,
                    "ended_at": flight.ended_at,
                    "outcome": flight.outcome,
                    "battery_used_fraction": flight.battery_used_fraction,
                    "track": flight.track,
                    "track_times": flight.track_times,
                    "extra": flight.extra or None,
                }
            ],
        )
        if frames:
            conn.execute(
                insert(Frame),
                [
                    {
                        "frame_id": f.frame_id,
                        "flight_id": flight.flight_id,
                        "taken_at": f.taken_at,
                        "lon": f.lon,
                        "lat": f.lat,
                        "alt_m": f.alt_m,
                        "image_path": f.image_path,
                        "geom": f.footprint,
                    }
                    for f in frames
                ],
            )
        if len(seen):
            conn.execute(
                insert(CellSighting),
                [
                    {
                        "cell_id": c,
                        "flight_id": flight.flight_id,
                        "seen_at": t.to_pydatetime(),
                        "fraction": float(q),
                    }
                    for c, t, q in zip(
                        seen["cell_id"], seen["seen_at"], seen["fraction"], strict=True
                    )
                ],
            )
    return len(seen)


def load_sightings(engine: Engine, *, since: datetime | None = None) -> pd.DataFrame:
    """Sightings (``cell_id``, ``seen_at`` UTC, ``flight_id``), optionally from ``since`` on."""
    query = select(CellSighting.cell_id, CellSighting.seen_at, CellSighting.flight_id)
    if since is not None:
        query = query.where(CellSighting.seen_at >= since)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame(
        {
            "cell_id": [r[0] for r in rows],
            "seen_at": pd.DatetimeIndex([r[1] for r in rows], tz="UTC")
            if rows
            else pd.DatetimeIndex([], tz="UTC"),
            "flight_id": [r[2] for r in rows],
        }
    )
