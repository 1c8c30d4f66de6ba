"""Affine/CRS georeferencing of orthophotos and ray marching over a DEM GeoTIFF."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Geod, Transformer
from rasterio.transform import Affine

from detection.errors import ImageInputError
from detection.georef import (
    CameraIntrinsics,
    CameraModel,
    CameraPose,
    DemGround,
    PhotoGeoreferencer,
    RasterGeoreferencer,
)

GEOD = Geod(ellps="WGS84")
UTM49N = "EPSG:32649"
TO_WGS84 = Transformer.from_crs(UTM49N, "EPSG:4326", always_xy=True)
TO_UTM = Transformer.from_crs("EPSG:4326", UTM49N, always_xy=True)
ORIGIN_E, ORIGIN_N = 750_000.0, 2_540_000.0


@pytest.mark.parametrize("rotation_deg", [0.0, 17.0])
def test_raster_boxes_follow_the_affine_transform(rotation_deg: float) -> None:
    res = 0.05
    transform = Affine(res, 0, ORIGIN_E, 0, -res, ORIGIN_N) @ Affine.rotation(rotation_deg)
    geo = RasterGeoreferencer(transform, UTM49N)
    rng = np.random.default_rng(7)
    xy0 = rng.uniform(0, 5000, (20, 2))
    xy1 = xy0 + rng.uniform(5, 400, (20, 2))
    boxes = [(float(a), float(b), float(c), float(d)) for a, b, c, d in np.hstack([xy0, xy1])]
    for box, poly in zip(boxes, geo.boxes_to_polygons(boxes), strict=True):
        assert poly is not None
        corners = [(box[0], box[1]), (box[2], box[1]), (box[2], box[3]), (box[0], box[3])]
        for (c, r), (lon, lat) in zip(corners, list(poly.exterior.coords)[:4], strict=True):
            e, n = transform @ (c, r)
            exp_lon, exp_lat = TO_WGS84.transform(e, n)
            _, _, err_m = GEOD.inv(exp_lon, exp_lat, lon, lat)
            assert err_m < 1e-3
        utm = np.array(TO_UTM.transform(*poly.exterior.xy)).T
        utm -= utm[0]  # shoelace near the origin, or float64 cancellation dominates
        area_m2 = 0.5 * abs(np.dot(utm[:-1, 0], utm[1:, 1]) - np.dot(utm[1:, 0], utm[:-1, 1]))
        expected = (box[2] - box[0]) * (box[3] - box[1]) * res * res
        assert area_m2 == pytest.approx(expected, rel=1e-6)


def test_raster_without_crs_is_refused() -> None:
    with pytest.raises(ImageInputError, match="no CRS"):
        RasterGeoreferencer(Affine.identity(), None)


def _slope_dem(path: Path, *, base_m: float, slope: float) -> Path:
    """A 1 m DEM in UTM 49N: height = base + slope · (easting − origin)."""
    size = 600
    east = ORIGIN_E - size / 2 + np.arange(size) + 0.5
    heights = np.broadcast_to(base_m + slope * (east - ORIGIN_E), (size, size)).astype("float32")
    transform = Affine(1.0, 0, ORIGIN_E - size / 2, 0, -1.0, ORIGIN_N + size / 2)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=size,
        height=size,
        count=1,
        dtype="float32",
        crs=UTM49N,
        transform=transform,
        nodata=-9999.0,
    ) as dst:
        dst.write(heights, 1)
    return path


@pytest.mark.parametrize("pitch_deg", [-90.0, -60.0])
def test_dem_round_trip_on_a_slope(tmp_path: Path, pitch_deg: float) -> None:
    base_m, slope = 20.0, 0.15
    dem = DemGround(_slope_dem(tmp_path / "dem.tif", base_m=base_m, slope=slope), step_m=1.0)
    lon0, lat0 = TO_WGS84.transform(ORIGIN_E, ORIGIN_N)
    camera = CameraModel(
        CameraIntrinsics(12.29, 17.3, 13.0, 1320, 989),
        CameraPose(lon0, lat0, 140.0, 40.0, pitch_deg),
    )
    rng = np.random.default_rng(11)
    e = ORIGIN_E + rng.uniform(-150, 150, 600)
    n = ORIGIN_N + rng.uniform(-150, 150, 600)
    lon, lat = TO_WGS84.transform(e, n)
    z = base_m + slope * (e - ORIGIN_E)
    u, v = camera.project(np.asarray(lon), np.asarray(lat), z)
    inside = np.isfinite(u) & (u > 0) & (u < 1320) & (v > 0) & (v < 989)
    assert inside.sum() > 30
    back = PhotoGeoreferencer(camera, dem).pixels_to_ground(u[inside], v[inside])
    _, _, err_m = GEOD.inv(np.asarray(lon)[inside], np.asarray(lat)[inside], back[:, 0], back[:, 1])
    assert np.nanmax(err_m) < 0.5
    assert np.abs(back[:, 2] - z[inside]).max() < 0.2


def test_dem_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ImageInputError, match="cannot read"):
        DemGround(tmp_path / "missing.tif")
