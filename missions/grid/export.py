"""Write cells to GeoJSON (RFC 7946) or GeoPackage, in WGS-84 or (for Chinese web maps) GCJ-02."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import geopandas as gpd
import numpy as np

from missions.errors import MissionsError
from missions.geo.crs import WGS84, wgs84_to_gcj02_geoms

__all__ = ["EXPORT_COLUMNS", "OutputCrs", "write_cells"]

EXPORT_COLUMNS = ("cell_id", "jurisdiction", "priority", "revisit_target_s", "no_fly", "area_m2")
_DRIVERS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG"}


class OutputCrs(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"


def write_cells(cells: gpd.GeoDataFrame, out: Path, *, crs: OutputCrs = OutputCrs.WGS84) -> Path:
    """Write ``cells`` (any CRS, with the export columns) to ``out``; format from the extension."""
    driver = _DRIVERS.get(out.suffix.lower())
    if driver is None:
        raise MissionsError(
            f"cannot tell the format of {out.name!r}; end the file name in .geojson or .gpkg"
        )
    frame = cells.to_crs(WGS84)[[*EXPORT_COLUMNS, frame_geom(cells)]].copy()
    frame["no_fly"] = frame["no_fly"].astype(bool)
    if crs is OutputCrs.GCJ02:
        frame = frame.set_geometry(
            wgs84_to_gcj02_geoms(np.asarray(frame.geometry.values, dtype=object)), crs=WGS84
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    layer = {"layer": "cells"} if driver == "GPKG" else {}
    frame.to_file(out, driver=driver, engine="pyogrio", **layer)
    return out


def frame_geom(frame: gpd.GeoDataFrame) -> str:
    return str(frame.geometry.name)
