"""Georeferencing for orthophotos: the raster's affine transform and CRS, then to WGS-84."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from shapely import Polygon

from detection.errors import ImageInputError
from detection.georef._types import BoxXyxy


class RasterGeoreferencer:
    """Maps pixel boxes of a georeferenced raster (any CRS, rotated transforms too) to WGS-84.

    ``col_off``/``row_off`` let a caller pass boxes in the pixels of a sub-window.
    Each box edge is densified so boxes stay faithful in strongly curved projections.
    """

    def __init__(self, transform: Any, crs: Any, *, edge_points: int = 2) -> None:
        from pyproj import CRS, Transformer  # noqa: PLC0415 - heavy, deferred

        if crs is None:
            raise ImageInputError(
                "raster has no CRS; assign one (gdal_translate -a_srs EPSG:xxxx) and retry"
            )
        self._transform = transform
        self._to_wgs84 = Transformer.from_crs(
            CRS.from_user_input(crs), CRS.from_epsg(4326), always_xy=True
        )
        self._edge_points = max(2, edge_points)

    def pixels_to_lonlat(
        self, cols: np.ndarray[Any, Any], rows: np.ndarray[Any, Any]
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Continuous pixel coordinates → lon/lat degrees."""
        a = self._transform
        xs = a.a * cols + a.b * rows + a.c
        ys = a.d * cols + a.e * rows + a.f
        lon, lat = self._to_wgs84.transform(xs, ys)
        return np.asarray(lon), np.asarray(lat)

    def boxes_to_polygons(self, boxes_xyxy_px: Sequence[BoxXyxy]) -> list[Polygon | None]:
        """One WGS-84 polygon per box, corners in ring order."""
        if not boxes_xyxy_px:
            return []
        s = np.linspace(0.0, 1.0, self._edge_points)[:-1]
        b = np.asarray(boxes_xyxy_px, dtype=np.float64)
        x0, y0, x1, y1 = (b[:, k : k + 1] for k in range(4))
        # ring: top edge → right edge → bottom edge → left edge, each without its last point
        cols = np.hstack([x0 + (x1 - x0) * s, x1 + 0 * s, x1 - (x1 - x0) * s, x0 + 0 * s])
        rows = np.hstack([y0 + 0 * s, y0 + (y1 - y0) * s, y1 + 0 * s, y1 - (y1 - y0) * s])
        lon, lat = self.pixels_to_lonlat(cols.ravel(), rows.ravel())
        lon, lat = lon.reshape(cols.shape), lat.reshape(cols.shape)
        return [Polygon(np.column_stack([lo, la])) for lo, la in zip(lon, lat, strict=True)]
