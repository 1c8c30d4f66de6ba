"""Pinhole georeferencing: known ground points → synthetic camera → pixels → back to the ground.

Bounds stated here (100 m above flat ground, 4/3" 20 MP camera, pixels rounded to integers):
- nadir: horizontal error < 0.5 m (observed: centimetres — pixel rounding only);
- 30° off nadir: horizontal error < 0.5 m for points inside the frame;
- pose error dominates in practice: 1° of pitch error moves the image centre by
  h·(tan(θ+1°) − tan θ) on the ground (1.75 m at nadir, 2.35 m at 30°) — asserted below.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from detection.errors import ImageInputError
from detection.georef import (
    CameraIntrinsics,
    CameraModel,
    CameraPose,
    FlatGround,
    PhotoGeoreferencer,
)

GEOD = Geod(ellps="WGS84")
LON, LAT = 113.3841, 22.9378  # Panyu district
ALT_M = 100.0
CAMERA = CameraIntrinsics(12.29, 17.3, 13.0, 5280, 3956)  # 4/3" 20 MP wide camera


def _ground_points_in_view(camera: CameraModel, seed: int, n: int = 400) -> np.ndarray:
    """Random ground points (via geodesic forward problem) that fall inside the frame."""
    rng = np.random.default_rng(seed)
    az = rng.uniform(-180, 180, n * 4)
    dist = rng.uniform(0, 200, n * 4)
    lon, lat, _ = GEOD.fwd(np.full(az.size, LON), np.full(az.size, LAT), az, dist)
    u, v = camera.project(np.asarray(lon), np.asarray(lat), np.zeros(az.size))
    w, h = CAMERA.image_width_px, CAMERA.image_height_px
    inside = np.isfinite(u) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
    pts = np.column_stack([lon, lat, u, v])[inside][:n]
    assert len(pts) > 50, "test setup: too few points in view"
    return pts


@pytest.mark.parametrize(
    ("pitch_deg", "yaw_deg", "bound_m"),
    [(-90.0, 0.0, 0.5), (-90.0, 137.0, 0.5), (-60.0, 0.0, 0.5), (-60.0, -75.0, 0.5)],
)
def test_round_trip_error_is_bounded(pitch_deg: float, yaw_deg: float, bound_m: float) -> None:
    camera = CameraModel(CAMERA, CameraPose(LON, LAT, ALT_M, yaw_deg, pitch_deg))
    pts = _ground_points_in_view(camera, seed=int(-pitch_deg + yaw_deg + 1000))
    geo = PhotoGeoreferencer(camera, FlatGround(0.0))
    back = geo.pixels_to_ground(np.round(pts[:, 2]), np.round(pts[:, 3]))
    _, _, err_m = GEOD.inv(pts[:, 0], pts[:, 1], back[:, 0], back[:, 1])
    assert np.max(err_m) < bound_m
    assert np.allclose(back[:, 2], 0.0)


def test_nadir_matches_the_textbook_footprint() -> None:
    """At nadir, yaw 0: image top is north and one pixel spans h·sensor/(f·pixels) metres."""
    camera = CameraModel(CAMERA, CameraPose(LON, LAT, ALT_M, yaw_deg=0.0))
    geo = PhotoGeoreferencer(camera, FlatGround(0.0))
    w, h = CAMERA.image_width_px, CAMERA.image_height_px
    gsd_x_m = ALT_M * CAMERA.sensor_width_mm / (CAMERA.focal_length_mm * w)
    gsd_y_m = ALT_M * CAMERA.sensor_height_mm / (CAMERA.focal_length_mm * h)
    corners = geo.pixels_to_ground(np.array([0.0, w]), np.array([0.0, h]))
    for (lon, lat, _), sign in zip(corners, (-1, 1), strict=True):
        az, _, dist = GEOD.inv(LON, LAT, lon, lat)
        expected = math.hypot(w / 2 * gsd_x_m, h / 2 * gsd_y_m)
        assert dist == pytest.approx(expected, rel=1e-4)
        bearing = math.degrees(math.atan2(sign * w / 2 * gsd_x_m, -sign * h / 2 * gsd_y_m))
        assert az == pytest.approx(bearing, abs=0.01)


@pytest.mark.parametrize("pitch_deg", [-90.0, -60.0])
def test_one_degree_of_pitch_error_moves_the_centre_as_stated(pitch_deg: float) -> None:
    off_nadir = math.radians(90 + pitch_deg)
    centre = np.array([CAMERA.image_width_px / 2]), np.array([CAMERA.image_height_px / 2])
    hits = []
    for err_deg in (0.0, 1.0):
        cam = CameraModel(CAMERA, CameraPose(LON, LAT, ALT_M, 30.0, pitch_deg + err_deg))
        hits.append(PhotoGeoreferencer(cam, FlatGround(0.0)).pixels_to_ground(*centre)[0])
    _, _, shift_m = GEOD.inv(hits[0][0], hits[0][1], hits[1][0], hits[1][1])
    # pitch +1° tilts the view 1° further from nadir
    expected = ALT_M * (math.tan(off_nadir + math.radians(1)) - math.tan(off_nadir))
    assert shift_m == pytest.approx(expected, rel=1e-3)


def test_boxes_become_polygons_and_sky_boxes_none() -> None:
    camera = CameraModel(CAMERA, CameraPose(LON, LAT, ALT_M, 0.0, pitch_deg=-10.0))
    geo = PhotoGeoreferencer(camera, FlatGround(0.0), max_range_m=5000.0)
    h = CAMERA.image_height_px
    bottom = (2000.0, h - 200.0, 2400.0, h - 100.0)
    sky = (2000.0, 0.0, 2400.0, 100.0)  # 10° down, top of a 56° tall view is above horizon
    poly, none = geo.boxes_to_polygons([bottom, sky])
    assert none is None
    assert poly is not None
    assert poly.is_valid
    assert poly.area > 0


def test_camera_below_ground_and_bad_positions_are_refused() -> None:
    camera = CameraModel(CAMERA, CameraPose(LON, LAT, 5.0, 0.0))
    with pytest.raises(ImageInputError, match="not above the ground"):
        PhotoGeoreferencer(camera, FlatGround(10.0)).pixels_to_ground(np.ones(1), np.ones(1))
    with pytest.raises(ImageInputError, match="lon/lat swapped"):
        CameraPose(LAT, 200.0, ALT_M, 0.0)


def test_sensor_size_from_35mm_equivalent() -> None:
    # DJI Mavic 3 wide: 12.29 mm, 24 mm equivalent, 5280x3956 → 17.3x13.0 mm class sensor
    cam = CameraIntrinsics.from_35mm_equivalent(12.29, 24.0, 5280, 3956)
    diag = math.hypot(cam.sensor_width_mm, cam.sensor_height_mm)
    assert diag == pytest.approx(math.hypot(36, 24) * 12.29 / 24.0)
    assert cam.sensor_width_mm / cam.sensor_height_mm == pytest.approx(5280 / 3956)


@settings(max_examples=60, deadline=None)
@given(
    pose=st.tuples(
        st.floats(-180, 180), st.floats(-90, -50), st.floats(-10, 10), st.floats(20, 120)
    ),
    ground_m=st.floats(-30, 15),
    pixel=st.tuples(st.floats(0, 1), st.floats(0, 1)),
)
def test_pixel_to_ground_to_pixel_is_identity(
    pose: tuple[float, float, float, float], ground_m: float, pixel: tuple[float, float]
) -> None:
    """Up to 40° off nadir every pixel (at most 41.4° off-axis) looks below the horizon."""
    yaw, pitch, roll, alt = pose
    camera = CameraModel(CAMERA, CameraPose(LON, LAT, alt, yaw, pitch, roll))
    geo = PhotoGeoreferencer(camera, FlatGround(ground_m), max_range_m=10_000)
    px = np.array([pixel[0] * CAMERA.image_width_px])
    py = np.array([pixel[1] * CAMERA.image_height_px])
    hit = geo.pixels_to_ground(px, py)
    assert np.isfinite(hit).all()
    back_u, back_v = camera.project(hit[:, 0], hit[:, 1], hit[:, 2])
    np.testing.assert_allclose([back_u[0], back_v[0]], [px[0], py[0]], atol=1e-4)
