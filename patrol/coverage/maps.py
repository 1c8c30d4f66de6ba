"""Coverage maps: PNG (hours since last seen), GeoJSON and a GeoTIFF of hours since seen.

All three take the metric cell state from :func:`patrol.coverage.stats.coverage_state`. Cells
never seen are drawn grey in the PNG, have ``null`` hours in the GeoJSON and ``nodata`` (-1) in
the GeoTIFF.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import rasterio
from matplotlib.colors import BoundaryNorm, ListedColormap
from rasterio.transform import Affine

from missions.fleet import Nest
from missions.geo.crs import WGS84
from missions.maps import cell_raster, draw_nests
from patrol.errors import PatrolError

__all__ = ["MapFormat", "write_coverage_map"]

NODATA = -1.0
_BOUNDS_H = [0, 2, 6, 24, 72, 168, 10_000]
_COLOURS = ["#1a9850", "#91cf60", "#d9ef8b", "#fee08b", "#fc8d59", "#d73027"]


class MapFormat(StrEnum):
    PNG = ".png"
    GEOJSON = ".geojson"
    GEOTIFF = ".tif"


def _format(out: Path) -> MapFormat:
    suffix = ".tif" if out.suffix.lower() == ".tiff" else out.suffix.lower()
    try:
        return MapFormat(suffix)
    except ValueError as e:
        raise PatrolError(
            f"cannot tell the map format of {out.name!r}; end it in .png, .geojson or .tif"
        ) from e


def _png(state: gpd.GeoDataFrame, out: Path, size_m: float, title: str, nests: list[Nest]) -> None:
    hours = state["hours_since_seen"].to_numpy(dtype=float)
    raster, extent = cell_raster(state, hours, size_m)
    never, _ = cell_raster(state, np.where(np.isnan(hours), 1.0, np.nan), size_m)
    fig, ax = plt.subplots(figsize=(10, 9), dpi=120)
    ax.imshow(never, origin="lower", extent=extent, cmap=ListedColormap(["#bdbdbd"]))
    image = ax.imshow(
        raster,
        origin="lower",
        extent=extent,
        cmap=ListedColormap(_COLOURS),
        norm=BoundaryNorm(_BOUNDS_H, len(_COLOURS)),
        interpolation="nearest",
    )
    bar = fig.colorbar(image, ax=ax, shrink=0.7, ticks=_BOUNDS_H[:-1])
    bar.set_label("hours since last seen (grey: never)")
    if nests:
        draw_nests(ax, nests, state.crs)
    ax.set_title(title, fontsize=11)
    ax.set_aspect("equal")
    ax.ticklabel_format(style="plain")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def _geotiff(state: gpd.GeoDataFrame, out: Path, size_m: float) -> None:
    hours = state["hours_since_seen"].to_numpy(dtype=float)
    raster, (left, _, _, top) = cell_raster(state, np.nan_to_num(hours, nan=NODATA), size_m)
    band = np.flipud(np.nan_to_num(raster, nan=NODATA)).astype("float32")  # north row first
    with rasterio.open(
        out,
        "w",
        driver="GTiff",
        height=band.shape[0],
        width=band.shape[1],
        count=1,
        dtype="float32",
        crs=state.crs.to_wkt(),
        transform=Affine(size_m, 0.0, left, 0.0, -size_m, top),  # north-up, no rotation
        nodata=NODATA,
        compress="deflate",
    ) as dst:
        dst.write(band, 1)
        dst.set_band_description(1, "hours since last seen")


def _geojson(state: gpd.GeoDataFrame, out: Path) -> None:
    columns = [
        "cell_id",
        "jurisdiction",
        "priority",
        "revisit_target_s",
        "count",
        "hours_since_seen",
        "within_target",
        "worst_gap_s",
    ]
    frame = state[[c for c in columns if c in state.columns]].copy()
    frame["last_seen"] = [None if pd.isna(t) else t.isoformat() for t in state["last_seen"]]
    frame = gpd.GeoDataFrame(frame, geometry=state.geometry.to_crs(WGS84).values, crs=WGS84)
    if out.exists():
        out.unlink()
    frame.to_file(out, driver="GeoJSON", engine="pyogrio")


def write_coverage_map(
    state: gpd.GeoDataFrame,
    out: Path,
    *,
    cell_size_m: float,
    at: datetime,
    nests: list[Nest] | None = None,
) -> MapFormat:
    """Write ``state`` (metric cells with coverage columns) to ``out``; format by extension."""
    fmt = _format(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt is MapFormat.PNG:
        _png(state, out, cell_size_m, f"Coverage at {at:%Y-%m-%d %H:%M %Z}", nests or [])
    elif fmt is MapFormat.GEOTIFF:
        _geotiff(state, out, cell_size_m)
    else:
        _geojson(state, out)
    return fmt
