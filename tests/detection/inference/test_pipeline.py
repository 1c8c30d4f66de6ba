"""Batch runs: bad files are skipped with reasons, good ones georeferenced, no network used."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
from pyproj import Geod, Transformer

from detection.inference import SliceConfig, load_detector
from detection.inference.pipeline import PipelineConfig, ProgressHooks, run_detection
from detection.inference.testing import (
    ColourBlobDetector,
    FixedOutputModel,
    write_fixed_output_onnx,
)
from detection.sources.testing import DronePhotoSpec, write_drone_jpeg, write_geotiff

RED = (255, 0, 0)
ORIGIN = (750_000.0, 2_540_000.0)
PIXEL_M = 0.05
GEOD = Geod(ellps="WGS84")


def _scene(seed: int, h: int, w: int, box: tuple[int, int, int, int]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.integers(80, 120, (h, w, 3), dtype=np.uint8)  # grey noise, far from red
    x0, y0, x1, y1 = box
    image[y0:y1, x0:x1] = RED
    return image


def test_batch_skips_bad_files_and_places_good_detections(tmp_path: Path) -> None:
    box = (150, 40, 230, 90)  # straddles the seam of 128 px tiles
    ortho = write_geotiff(tmp_path / "a_ortho.tif", _scene(1, 200, 300, box), pixel_size=PIXEL_M)
    photo = write_drone_jpeg(
        tmp_path / "b_photo.jpg", _scene(2, 120, 160, (10, 10, 30, 30)), DronePhotoSpec()
    )
    junk = tmp_path / "c_junk.jpg"
    junk.write_bytes(np.random.default_rng(3).bytes(1000))
    plain = write_geotiff(tmp_path / "d_plain.tif", _scene(4, 64, 64, box), crs=None)
    posless = write_drone_jpeg(
        tmp_path / "e_nopose.jpg", _scene(5, 64, 64, box), DronePhotoSpec(lat_deg=None)
    )
    events: list[tuple[str, str | None]] = []
    hooks = ProgressHooks(file_finished=lambda p, why: events.append((p.name, why)))
    detector = ColourBlobDetector([RED], ["illegal_structure"], tolerance=60)
    config = PipelineConfig(slicing=SliceConfig(tile_size_px=128, overlap_ratio=0.25))
    result = run_detection([tmp_path], detector, config, hooks)

    assert result.files_done == 2
    assert {s.path.name: s.reason.split(":")[1].strip() for s in result.skipped}.keys() == {
        junk.name,
        plain.name,
        posless.name,
    }
    assert [name for name, why in events if why is None] == [ortho.name, photo.name]
    by_file = {d.source.name: d for d in result.detections}
    assert sorted(by_file) == [ortho.name, photo.name]
    assert len(result.detections) == 2  # one object per file: no seam duplicate

    ortho_det = by_file[ortho.name]
    assert ortho_det.detection.box_xyxy_px == tuple(float(v) for v in box)
    # light: the red box's luma (0.299 × 255) over the median luma of the grey noise (~99.5)
    assert ortho_det.light == pytest.approx(0.299 * 255 / 99.5, rel=0.03)
    to_wgs84 = Transformer.from_crs("EPSG:32649", "EPSG:4326", always_xy=True)
    x0, y0 = ORIGIN[0] + box[0] * PIXEL_M, ORIGIN[1] - box[1] * PIXEL_M
    exp_lon, exp_lat = to_wgs84.transform(x0, y0)
    assert ortho_det.polygon is not None
    lon, lat = ortho_det.polygon.exterior.coords[0]
    assert GEOD.inv(exp_lon, exp_lat, lon, lat)[2] < 0.01


def test_full_run_with_sockets_blocked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("onnx", reason="building the test model needs the onnx package")
    spec = FixedOutputModel(
        np.array([[32, 32, 16, 16]], np.float32), np.array([[0.9, 0, 0, 0]], np.float32)
    )
    model = write_fixed_output_onnx(tmp_path / "m.onnx", spec)
    ortho = write_geotiff(tmp_path / "o.tif", _scene(6, 100, 100, (0, 0, 1, 1)))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("detection tried to use the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    result = run_detection([ortho], load_detector(model), PipelineConfig())
    assert result.files_done == 1
    assert result.detections
    assert all(d.polygon is not None for d in result.detections)
