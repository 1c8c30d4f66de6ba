"""Where camera rays meet the ground: a flat plane or a DEM GeoTIFF.

Both models work in the camera's local frame (metres east/north of the nadir point, up =
``altitude_m``); heights must use the same vertical reference as the camera altitude — see
:mod:`detection.sources.photo` for how DJI's take-off-relative altitude is handled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from detection.errors import ImageInputError
from detection.georef.camera import Array, CameraModel


class GroundModel(Protocol):
    """Intersects camera rays with the ground."""

    def intersect(self, camera: CameraModel, rays: Array, max_range_m: float) -> Array:
        """``(N, 3)`` ground points (east, north, height) per ray; NaN rows for misses."""
        ...


@dataclass(frozen=True)
class FlatGround:
    """Level ground at ``elevation_m`` (same vertical reference as the camera altitude)."""

    elevation_m: float = 0.0

    def intersect(self, camera: CameraModel, rays: Array, max_range_m: float) -> Array:
        """Ray/plane intersection; rays at or above the horizon, or too far, miss."""
        drop = self.elevation_m - camera.pose.altitude_m
        if drop >= 0:
            raise ImageInputError(
                f"camera altitude {camera.pose.altitude_m} m is not above the ground "
                f"({self.elevation_m} m); check the altitude reference and ground elevation"
            )
        dz = rays[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(dz < 0, drop / dz, np.nan)
        points = rays * t[:, None]
        points[:, 2] = self.elevation_m
        too_far = np.hypot(points[:, 0], points[:, 1]) > max_range_m
        points[too_far] = np.nan
        return points


class DemGround:
    """Terrain from a DEM GeoTIFF (any CRS; heights in metres, same reference as the camera).

    Rays are marched in ``step_m`` steps between the DEM's highest and lowest points and the
    crossing is interpolated linearly; only the window under the sampled rays is read.
    """

    def __init__(self, path: Path | str, *, step_m: float = 1.0) -> None:
        import rasterio  # noqa: PLC0415 - heavy, deferred

        self.path = Path(path)
        self.step_m = step_m
        try:
            with rasterio.open(self.path) as src:
                if src.crs is None:
                    raise ImageInputError(f"{self.path}: DEM has no CRS; assign one and retry")
                self._crs = src.crs
                self._transform = src.transform
                self._shape = (src.height, src.width)
                self._nodata = src.nodata
                scale = max(1, math.ceil(max(src.width, src.height) / 512))
                preview = src.read(
                    1,
                    out_shape=(max(1, src.height // scale), max(1, src.width // scale)),
                    masked=True,
                )
        except rasterio.errors.RasterioIOError as e:
            raise ImageInputError(f"{self.path}: cannot read the DEM ({e})") from e
        if preview.count() == 0:
            raise ImageInputError(f"{self.path}: DEM holds only nodata")
        self.min_elevation_m = float(preview.min()) - 1.0
        self.max_elevation_m = float(preview.max()) + 1.0

    def elevation(self, camera: CameraModel, east_m: Array, north_m: Array) -> Array:
        """Bilinear DEM height at local points (NaN outside the DEM or on nodata)."""
        import rasterio  # noqa: PLC0415
        from pyproj import Transformer  # noqa: PLC0415
        from rasterio.windows import Window  # noqa: PLC0415
        from scipy.ndimage import map_coordinates  # noqa: PLC0415

        lon, lat = camera.local_to_lonlat(east_m, north_m)
        to_dem = Transformer.from_crs("EPSG:4326", self._crs, always_xy=True)
        x, y = to_dem.transform(lon, lat)
        inv = ~self._transform
        x, y = np.asarray(x), np.asarray(y)
        col = inv.a * x + inv.b * y + inv.c - 0.5  # - 0.5: to pixel-centre indexes
        row = inv.d * x + inv.e * y + inv.f - 0.5
        finite = np.isfinite(col) & np.isfinite(row)
        out = np.full(col.shape, np.nan)
        if not finite.any():
            return out
        r0 = int(max(0, math.floor(row[finite].min()) - 1))
        c0 = int(max(0, math.floor(col[finite].min()) - 1))
        r1 = int(min(self._shape[0], math.ceil(row[finite].max()) + 2))
        c1 = int(min(self._shape[1], math.ceil(col[finite].max()) + 2))
        if r1 <= r0 or c1 <= c0:
            return out
        with rasterio.open(self.path) as src:
            block = src.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
        grid = np.ma.filled(block.astype(np.float64), np.nan)
        coords = np.vstack([row[finite] - r0, col[finite] - c0])
        out[finite] = map_coordinates(grid, coords, order=1, cval=np.nan)
        return out

    def intersect(self, camera: CameraModel, rays: Array, max_range_m: float) -> Array:
        """March each ray through the DEM's height band and interpolate the crossing."""
        alt = camera.pose.altitude_m
        dz = rays[:, 2]
        down = dz < 0
        points = np.full(rays.shape, np.nan)
        if not down.any():
            return points
        r = rays[down]
        t_top = np.clip((self.max_elevation_m - alt) / r[:, 2], 0, None)
        t_bottom = (self.min_elevation_m - alt) / r[:, 2]
        t_bottom = np.minimum(t_bottom, max_range_m / np.maximum(np.hypot(r[:, 0], r[:, 1]), 1e-9))
        samples = int(min(4096, max(2, math.ceil(float((t_bottom - t_top).max()) / self.step_m))))
        frac = np.linspace(0.0, 1.0, samples)
        t = t_top[:, None] + (t_bottom - t_top)[:, None] * frac[None, :]
        xyz = r[:, None, :] * t[:, :, None]
        ground = self.elevation(camera, xyz[..., 0].ravel(), xyz[..., 1].ravel()).reshape(t.shape)
        above = alt + xyz[..., 2] - ground  # > 0 while the ray is above the terrain
        hit = np.where(np.nan_to_num(above, nan=1.0) <= 0, 1, 0)
        first = np.argmax(hit, axis=1)
        ok = (hit.max(axis=1) == 1) & (first > 0)
        idx = np.flatnonzero(ok)
        i1 = first[ok]
        a0, a1 = above[idx, i1 - 1], above[idx, i1]
        w = a0 / (a0 - a1)
        t_hit = t[idx, i1 - 1] + w * (t[idx, i1] - t[idx, i1 - 1])
        hits = r[idx] * t_hit[:, None]
        hits[:, 2] += alt
        rows = np.flatnonzero(down)[idx]
        points[rows] = hits
        return points
