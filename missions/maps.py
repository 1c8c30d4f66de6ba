"""Static PNG maps (matplotlib, Agg): the grid by priority class with nests and no-fly zones.

Cells lie on a regular grid, so they are drawn as one raster indexed by row/column (exact for
whole cells, fast for 200k cells) under the vector outlines.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch
from pyproj import CRS

from missions.fleet import Nest
from missions.geo.crs import WGS84

__all__ = ["CLASS_COLOURS", "cell_raster", "draw_nests", "render_grid_map"]

CLASS_COLOURS = {"core": "#d7301f", "standard": "#fdae61", "low": "#abd9e9"}


def cell_raster(
    cells: gpd.GeoDataFrame, values: np.ndarray, size_m: float
) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """``values`` (one per cell) on the grid lattice, south row first; NaN where no cell.

    Returns the raster and its extent (left, right, bottom, top) in the cells' metric CRS.
    """
    rows, cols = cells["row"].to_numpy(), cells["col"].to_numpy()
    r0, c0 = rows.min(), cols.min()
    raster = np.full((rows.max() - r0 + 1, cols.max() - c0 + 1), np.nan)
    raster[rows - r0, cols - c0] = values
    extent = (
        float(c0 * size_m),
        float((cols.max() + 1) * size_m),
        float(r0 * size_m),
        float((rows.max() + 1) * size_m),
    )
    return raster, extent


def render_grid_map(
    cells: gpd.GeoDataFrame,
    out: Path,
    *,
    cell_size_m: float,
    title: str,
    nests: list[Nest] | None = None,
    nofly: gpd.GeoDataFrame | None = None,
    jurisdictions: gpd.GeoDataFrame | None = None,
) -> Path:
    """Write a PNG of metric ``cells`` coloured by class. Returns the path written."""
    crs = cells.crs
    codes = cells["priority"].map({k: i for i, k in enumerate(CLASS_COLOURS)}).to_numpy(float)
    raster, extent = cell_raster(cells, codes, cell_size_m)
    fig, ax = plt.subplots(figsize=(10, 9), dpi=120)
    ax.imshow(
        raster,
        origin="lower",
        extent=extent,
        cmap=ListedColormap(list(CLASS_COLOURS.values())),
        vmin=0,
        vmax=len(CLASS_COLOURS) - 1,
        interpolation="nearest",
    )
    if jurisdictions is not None and len(jurisdictions):
        jurisdictions.to_crs(crs).boundary.plot(ax=ax, color="#555555", linewidth=0.6)
    if nofly is not None and len(nofly):
        nofly.to_crs(crs).plot(
            ax=ax, facecolor="none", edgecolor="black", hatch="////", linewidth=1.0
        )
    handles = [Patch(color=c, label=f"{k} cells") for k, c in CLASS_COLOURS.items()]
    if nests:
        draw_nests(ax, nests, crs)
        handles.append(Patch(color="#1a1a1a", label="nests"))
    if nofly is not None and len(nofly):
        handles.append(
            Patch(facecolor="none", edgecolor="black", hatch="////", label="no-fly zones")
        )
    ax.legend(handles=handles, loc="lower left", fontsize=8)
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(f"easting (m, {crs.to_string()})")
    ax.set_ylabel("northing (m)")
    ax.ticklabel_format(style="plain")
    ax.set_aspect("equal")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def draw_nests(ax: Axes, nests: list[Nest], crs: CRS) -> None:
    """Nests as labelled triangles on a map drawn in ``crs``."""
    lon = [n.lon for n in nests]
    lat = [n.lat for n in nests]
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=WGS84).to_crs(crs)
    ax.scatter(pts.x, pts.y, marker="^", s=60, c="#1a1a1a", edgecolors="white", zorder=5)
    for n, x, y in zip(nests, pts.x, pts.y, strict=True):
        ax.annotate(n.nest_id, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=7)
