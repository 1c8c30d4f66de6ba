"""Drone photos: DJI XMP (both longitude spellings), EXIF, sidecar JSON, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pyproj import Geod

from detection.errors import ImageInputError
from detection.sources import AltitudeReference, PhotoSource, SourceConfig, open_source
from detection.sources.testing import DronePhotoSpec, write_drone_jpeg

GEOD = Geod(ellps="WGS84")


def _pixels(seed: int, h: int = 120, w: int = 160) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _footprint_m2(src: PhotoSource) -> float:
    w, h = src.size_wh_px
    (poly,) = src.georeferencer.boxes_to_polygons([(0.0, 0.0, float(w), float(h))])
    assert poly is not None
    area, _ = GEOD.geometry_area_perimeter(poly)
    return abs(area)


@pytest.mark.parametrize("old_spelling", [False, True])
@pytest.mark.parametrize("as_elements", [False, True])
def test_dji_xmp_pose_is_read(tmp_path: Path, old_spelling: bool, as_elements: bool) -> None:
    spec = DronePhotoSpec(
        lon_deg=113.4012,
        lat_deg=22.9311,
        relative_altitude_m=87.3,
        gimbal_yaw_deg=-42.5,
        gimbal_pitch_deg=-75.0,
        old_longitude_spelling=old_spelling,
        xmp_as_elements=as_elements,
    )
    path = write_drone_jpeg(tmp_path / "DJI_0001.JPG", _pixels(1), spec)
    src = open_source(path)
    assert isinstance(src, PhotoSource)
    pose = src.georeferencer.camera.pose
    got = (pose.lon_deg, pose.lat_deg, pose.altitude_m, pose.yaw_deg, pose.pitch_deg)
    assert got == pytest.approx((113.4012, 22.9311, 87.3, -42.5, -75.0))


def test_nadir_footprint_matches_altitude_and_lens(tmp_path: Path) -> None:
    spec = DronePhotoSpec(relative_altitude_m=100.0)
    src = PhotoSource(write_drone_jpeg(tmp_path / "a.jpg", _pixels(2), spec))
    cam = src.georeferencer.camera.intrinsics
    expected = (100.0 / cam.focal_length_mm) ** 2 * cam.sensor_width_mm * cam.sensor_height_mm
    assert _footprint_m2(src) == pytest.approx(expected, rel=1e-3)


def test_relative_altitude_is_above_takeoff_not_ground(tmp_path: Path) -> None:
    """A dock on a 25 m roof: the street is 25 m below take-off, so the footprint grows."""
    path = write_drone_jpeg(tmp_path / "a.jpg", _pixels(3), DronePhotoSpec(relative_altitude_m=100))
    level = _footprint_m2(PhotoSource(path))
    roof = _footprint_m2(PhotoSource(path, SourceConfig(ground_elevation_m=-25.0)))
    assert roof / level == pytest.approx((125 / 100) ** 2, rel=1e-3)


def test_sidecar_overrides_and_exif_gps_with_absolute_altitude(tmp_path: Path) -> None:
    spec = DronePhotoSpec(lon_deg=113.25, lat_deg=22.75, absolute_altitude_m=150.0, exif_gps=True)
    path = write_drone_jpeg(tmp_path / "cam.jpg", _pixels(4), spec)
    with pytest.raises(ImageInputError, match="attitude"):
        PhotoSource(path, SourceConfig(altitude_reference=AltitudeReference.ABSOLUTE))
    (tmp_path / "cam.json").write_text(json.dumps({"yaw_deg": 90.0, "pitch_deg": -90.0}))
    config = SourceConfig(altitude_reference=AltitudeReference.ABSOLUTE, ground_elevation_m=30)
    pose = PhotoSource(path, config).georeferencer.camera.pose
    assert (pose.lon_deg, pose.lat_deg) == pytest.approx((113.25, 22.75), abs=1e-6)
    assert (pose.altitude_m, pose.yaw_deg) == (150.0, 90.0)


def test_sidecar_typos_are_reported(tmp_path: Path) -> None:
    path = write_drone_jpeg(tmp_path / "b.jpg", _pixels(5), DronePhotoSpec())
    (tmp_path / "b.jpg.json").write_text(json.dumps({"yaw_degrees": 10}))
    with pytest.raises(ImageInputError, match="unknown sidecar keys"):
        PhotoSource(path)


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ({"lat_deg": None}, "no camera position"),
        ({"relative_altitude_m": None}, "RelativeAltitude"),
        ({"gimbal_pitch_deg": None}, "attitude"),
        ({"focal_35mm_mm": None}, "focal length"),
    ],
)
def test_missing_pose_fields_name_the_fix(
    tmp_path: Path, missing: dict[str, None], message: str
) -> None:
    path = write_drone_jpeg(tmp_path / "m.jpg", _pixels(6), DronePhotoSpec(**missing))  # type: ignore[arg-type]
    with pytest.raises(ImageInputError, match=message):
        PhotoSource(path)


def test_truncated_and_corrupt_jpegs(tmp_path: Path) -> None:
    good = write_drone_jpeg(tmp_path / "g.jpg", _pixels(7, 400, 600), DronePhotoSpec())
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ImageInputError, match="truncated"):
        PhotoSource(cut)
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(np.random.default_rng(8).bytes(2048))
    with pytest.raises(ImageInputError, match="not a readable image"):
        PhotoSource(junk)


def _patch_jpeg_size(data: bytes, width: int, height: int) -> bytes:
    """Rewrite the SOF0 frame header to claim other dimensions (a decompression bomb)."""
    sof = data.index(b"\xff\xc0")
    header = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return data[: sof + 5] + header + data[sof + 9 :]


@pytest.mark.parametrize(("side", "limit"), [(60_000, 200_000_000), (3_000, 1_000_000)])
def test_absurd_dimensions_are_refused_before_decoding(
    tmp_path: Path, side: int, limit: int
) -> None:
    good = write_drone_jpeg(tmp_path / "g.jpg", _pixels(9), DronePhotoSpec())
    bomb = tmp_path / "bomb.jpg"
    bomb.write_bytes(_patch_jpeg_size(good.read_bytes(), side, side))
    with pytest.raises(ImageInputError, match="exceed"):
        PhotoSource(bomb, SourceConfig(max_photo_pixels=limit))


def test_dem_needs_the_absolute_reference(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="DEM"):
        SourceConfig(dem_path=tmp_path / "dem.tif")
