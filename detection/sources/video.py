"""Drone videos: frames sampled every ``video_frame_interval_s``, posed from telemetry.

Decoding uses OpenCV, imported lazily (``opencv-python-headless``; the ``train`` extra brings
it). Lens: video frames carry no EXIF, so the telemetry's 35 mm-equivalent ``focal_len`` (or a
``<stem>.json`` sidecar with ``focal_length_mm``/``sensor_*_mm``) gives the intrinsics.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from detection.errors import ImageInputError
from detection.georef import CameraIntrinsics, CameraModel, GroundModel, PhotoGeoreferencer
from detection.inference import RgbImage, TileWindow
from detection.sources._base import SourceConfig, check_pixel_count
from detection.sources.photo import ground_for, intrinsics_from, pose_from
from detection.sources.photo_meta import PhotoMetadata, merge_metadata, read_sidecar, sidecar_path
from detection.sources.telemetry import TelemetrySample, sample_at, telemetry_for

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".avi", ".mkv"})


class VideoFrameSource:
    """One decoded, posed frame; ``frame_time_s`` says where it is in the video."""

    def __init__(
        self, path: Path, frame_time_s: float, pixels: RgbImage, georef: PhotoGeoreferencer
    ) -> None:
        self.path = path
        self.frame_time_s: float | None = frame_time_s
        self._pixels = pixels
        self._georef = georef

    @property
    def size_wh_px(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return int(self._pixels.shape[1]), int(self._pixels.shape[0])

    @property
    def georeferencer(self) -> PhotoGeoreferencer:
        """Pinhole georeferencing with the pose at this frame's time."""
        return self._georef

    def read_tile(self, window: TileWindow) -> RgbImage | None:
        """A view of the frame."""
        r, c = window.row_off, window.col_off
        return self._pixels[r : r + window.height, c : c + window.width]

    def close(self) -> None:
        """Nothing to release: the capture is owned by the frame iterator."""


def _frame_meta(sample: TelemetrySample, lens: dict[str, float]) -> PhotoMetadata:
    state = {k: v for k, v in vars(sample).items() if k != "time_s" and v is not None}
    return merge_metadata(state, lens)


def _open_capture(path: Path) -> tuple[Any, Any, float]:
    try:
        cv2: Any = importlib.import_module("cv2")
    except ImportError as e:
        raise ImageInputError(
            f"{path}: reading video needs OpenCV; pip install opencv-python-headless "
            "(or extract frames and pass them as photos with sidecar JSON poses)"
        ) from e
    capture = cv2.VideoCapture(str(path))
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    if not capture.isOpened() or fps <= 0:
        capture.release()
        raise ImageInputError(f"{path}: not a readable video (corrupt, or an unsupported codec)")
    return cv2, capture, fps


def iter_video_frames(
    path: Path, config: SourceConfig, ground: GroundModel | None = None
) -> Iterator[VideoFrameSource]:
    """Posed frames every ``config.video_frame_interval_s`` seconds, in order."""
    track = telemetry_for(path)
    side = sidecar_path(path) if config.use_sidecar else None
    lens = read_sidecar(side) if side else {}
    ground = ground or ground_for(config)
    cv2, capture, fps = _open_capture(path)
    step = max(1, round(config.video_frame_interval_s * fps))
    try:
        index = 0
        while capture.grab():
            if index % step == 0:
                ok, bgr = capture.retrieve()
                if not ok:
                    raise ImageInputError(f"{path}: frame {index} cannot be decoded (truncated?)")
                h, w = bgr.shape[:2]
                check_pixel_count(path, w, h, config.max_photo_pixels, "video frame")
                time_s = index / fps
                meta = _frame_meta(sample_at(track, time_s), lens)
                camera = CameraModel(
                    _intrinsics(meta, w, h, path), pose_from(meta, config.altitude_reference, path)
                )
                rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), dtype=np.uint8)
                yield VideoFrameSource(path, time_s, rgb, PhotoGeoreferencer(camera, ground))
            index += 1
    finally:
        capture.release()
    if index == 0:
        raise ImageInputError(f"{path}: the video holds no decodable frame")


def _intrinsics(meta: PhotoMetadata, w: int, h: int, path: Path) -> CameraIntrinsics:
    if meta.focal_35mm_mm and not meta.focal_length_mm:
        # Only the 35 mm equivalent is known: a "full-frame" camera with that focal length.
        return CameraIntrinsics.from_35mm_equivalent(meta.focal_35mm_mm, meta.focal_35mm_mm, w, h)
    return intrinsics_from(meta, w, h, path)
