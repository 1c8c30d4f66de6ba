"""Video frames posed from DJI SRT / CSV telemetry."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from pyproj import Geod

from detection.errors import ImageInputError
from detection.inference import SliceConfig
from detection.inference.pipeline import PipelineConfig, run_detection
from detection.inference.testing import ColourBlobDetector
from detection.sources import SourceConfig, iter_sources
from detection.sources.telemetry import parse_dji_srt, sample_at, telemetry_for
from detection.sources.testing import write_dji_srt, write_video

GEOD = Geod(ellps="WGS84")
LON, LAT = 113.3841, 22.9378
FPS = 10.0


def _track(n: int, *, gimbal: bool = True, old_spelling: bool = False) -> list[dict[str, float]]:
    lon_key = "longtitude" if old_spelling else "longitude"
    out = []
    for i in range(n):
        values = {"focal_len": 24.0, "latitude": LAT + i * 1e-6, lon_key: LON}
        values |= {"rel_alt": 100.0 + i * 0.1, "abs_alt": 112.5}
        if gimbal:
            values |= {"gb_yaw": 0.0, "gb_pitch": -90.0, "gb_roll": 0.0}
        out.append(values)
    return out


def test_srt_parsing_and_interpolation(tmp_path: Path) -> None:
    srt = write_dji_srt(tmp_path / "v.SRT", _track(5, old_spelling=True), 1 / FPS)
    samples = parse_dji_srt(srt.read_text())
    assert [round(s.time_s, 3) for s in samples] == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert samples[2].lon_deg == LON
    assert samples[2].pitch_deg == -90.0
    mid = sample_at(samples, 0.25)
    assert mid.lat_deg == pytest.approx(LAT + 2.5e-6)
    assert mid.relative_altitude_m == pytest.approx(100.25)
    assert sample_at(samples, 9.0).lat_deg == samples[-1].lat_deg


def _frames(n: int) -> list[np.ndarray]:
    frames = []
    for _ in range(n):
        frame = np.full((96, 128, 3), 100, np.uint8)
        frame[40:56, 56:72] = (255, 0, 0)  # a red square in the centre of every frame
        frames.append(frame)
    return frames


def test_video_frames_are_sampled_posed_and_detected(tmp_path: Path) -> None:
    pytest.importorskip("cv2", reason="video decoding needs OpenCV (opencv-python-headless)")
    video = write_video(tmp_path / "DJI_0002.avi", _frames(25), FPS)
    write_dji_srt(tmp_path / "DJI_0002.SRT", _track(25), 1 / FPS)
    frames = list(iter_sources(video, SourceConfig(video_frame_interval_s=1.0)))
    assert [f.frame_time_s for f in frames] == [0.0, 1.0, 2.0]
    detector = ColourBlobDetector([(255, 0, 0)], ["illegal_structure"], tolerance=60)
    config = PipelineConfig(SliceConfig(tile_size_px=64, overlap_ratio=0.25))
    result = run_detection([tmp_path], detector, config)
    assert result.files_done == 1
    assert [d.frame_time_s for d in result.detections] == [0.0, 1.0, 2.0]
    for det in result.detections:
        assert det.polygon is not None
        lon, lat = det.polygon.centroid.coords[0]
        cam_lat = LAT + (det.frame_time_s or 0) * FPS * 1e-6
        assert GEOD.inv(LON, cam_lat, lon, lat)[2] < 1.0  # the square is at the image centre


def test_missing_telemetry_gimbal_or_opencv_are_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(b"\x00" * 64)
    with pytest.raises(ImageInputError, match="no telemetry"):
        list(iter_sources(video))
    write_dji_srt(tmp_path / "v.SRT", _track(3, gimbal=False), 1 / FPS)
    assert telemetry_for(video)[0].pitch_deg is None
    real_import = importlib.import_module

    def no_cv2(name: str, package: str | None = None) -> ModuleType:
        if name == "cv2":
            raise ImportError("No module named 'cv2'")
        return real_import(name, package)

    monkeypatch.setattr(importlib, "import_module", no_cv2)
    with pytest.raises(ImageInputError, match="opencv"):
        list(iter_sources(video))


def test_frames_without_gimbal_attitude_are_refused(tmp_path: Path) -> None:
    pytest.importorskip("cv2", reason="video decoding needs OpenCV (opencv-python-headless)")
    video = write_video(tmp_path / "g.avi", _frames(3), FPS)
    write_dji_srt(tmp_path / "g.SRT", _track(3, gimbal=False), 1 / FPS)
    with pytest.raises(ImageInputError, match="attitude"):
        list(iter_sources(video))
