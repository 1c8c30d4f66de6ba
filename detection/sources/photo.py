"""Single drone photos (JPEG and other Pillow formats) with a pose from XMP/EXIF/sidecar.

A photo is decoded whole (after a pixel-count guard against decompression bombs) and sliced in
memory; georeferencing uses a pinhole camera over flat ground or a DEM — see
:class:`~detection.sources.AltitudeReference` for how the ground elevation is supplied.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from detection.errors import ImageInputError
from detection.georef import (
    CameraIntrinsics,
    CameraModel,
    CameraPose,
    DemGround,
    FlatGround,
    GroundModel,
    PhotoGeoreferencer,
)
from detection.inference import RgbImage, TileWindow
from detection.sources._base import AltitudeReference, SourceConfig, check_pixel_count
from detection.sources.photo_meta import (
    PhotoMetadata,
    merge_metadata,
    parse_dji_xmp,
    parse_exif,
    read_sidecar,
    sidecar_path,
)

PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})


def _open_image(path: Path, limit_px: int) -> tuple[RgbImage, dict[str, float], dict[str, float]]:
    """Decode a photo safely; returns pixels, EXIF values and DJI XMP values."""
    from PIL import Image, UnidentifiedImageError  # noqa: PLC0415

    try:
        with warnings.catch_warnings():
            # Pillow's own bomb warning/limit is replaced by our explicit, configurable guard.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                check_pixel_count(path, img.width, img.height, limit_px, "image")
                exif = parse_exif(img.getexif())
                xmp_raw = img.info.get("xmp", b"")
                img.load()
                rgb = np.asarray(img.convert("RGB"))
    except Image.DecompressionBombError as e:
        raise ImageInputError(
            f"{path}: image dimensions exceed the limit — a corrupt header or decompression "
            f"bomb ({e})"
        ) from e
    except UnidentifiedImageError as e:
        raise ImageInputError(f"{path}: not a readable image ({e})") from e
    except ImportError as e:  # a lazily registered plugin (e.g. ultralytics' HEIF) is missing
        raise ImageInputError(f"{path}: not a readable image (no decoder: {e})") from e
    except OSError as e:  # truncated or corrupt data ("image file is truncated", ...)
        raise ImageInputError(f"{path}: corrupt or truncated image ({e}); copy it again") from e
    xmp = xmp_raw.decode("utf-8", "replace") if isinstance(xmp_raw, bytes) else str(xmp_raw)
    return rgb, exif, parse_dji_xmp(xmp)


def intrinsics_from(meta: PhotoMetadata, width: int, height: int, path: Path) -> CameraIntrinsics:
    """Lens and sensor, from the best source available; the fix says how to supply them."""
    if meta.focal_length_mm and meta.sensor_width_mm and meta.sensor_height_mm:
        return CameraIntrinsics(
            meta.focal_length_mm, meta.sensor_width_mm, meta.sensor_height_mm, width, height
        )
    if meta.calibrated_focal_px:  # DJI's calibrated focal length is in pixels: work in px units
        return CameraIntrinsics(meta.calibrated_focal_px, width, height, width, height)
    if meta.focal_length_mm and meta.focal_35mm_mm:
        return CameraIntrinsics.from_35mm_equivalent(
            meta.focal_length_mm, meta.focal_35mm_mm, width, height
        )
    raise ImageInputError(
        f"{path}: no focal length and sensor size (EXIF FocalLength + FocalLengthIn35mmFilm, "
        "or DJI CalibratedFocalLength); add focal_length_mm, sensor_width_mm and "
        "sensor_height_mm to a sidecar JSON"
    )


def pose_from(meta: PhotoMetadata, reference: AltitudeReference, path: Path) -> CameraPose:
    """Camera pose with the altitude that matches ``reference``; clear errors if incomplete."""
    if meta.lon_deg is None or meta.lat_deg is None:
        raise ImageInputError(
            f"{path}: no camera position (DJI GpsLatitude/GpsLongitude or EXIF GPS); "
            "add lon_deg and lat_deg to a sidecar JSON"
        )
    if reference is AltitudeReference.TAKEOFF:
        altitude, tag = meta.relative_altitude_m, "RelativeAltitude / relative_altitude_m"
    else:
        altitude, tag = meta.absolute_altitude_m, "AbsoluteAltitude / EXIF GPSAltitude"
    if altitude is None:
        raise ImageInputError(
            f"{path}: no {tag} for the '{reference.value}' altitude reference; add it to a "
            "sidecar JSON or choose the other altitude reference"
        )
    yaw = meta.yaw_deg if meta.yaw_deg is not None else meta.flight_yaw_deg
    if yaw is None or meta.pitch_deg is None:
        raise ImageInputError(
            f"{path}: no camera attitude (DJI GimbalYawDegree/GimbalPitchDegree); "
            "add yaw_deg and pitch_deg (-90 = nadir) to a sidecar JSON"
        )
    return CameraPose(
        meta.lon_deg, meta.lat_deg, altitude, yaw, meta.pitch_deg, meta.roll_deg or 0.0
    )


def ground_for(config: SourceConfig) -> GroundModel:
    """Flat ground at the configured elevation, or the configured DEM."""
    if config.dem_path is not None:
        return DemGround(config.dem_path)
    return FlatGround(config.ground_elevation_m)


class PhotoSource:
    """A decoded drone photo with its camera model."""

    def __init__(
        self,
        path: Path | str,
        config: SourceConfig | None = None,
        ground: GroundModel | None = None,
    ) -> None:
        self.path = Path(path)
        self.frame_time_s: float | None = None
        config = config or SourceConfig()
        pixels, exif, xmp = _open_image(self.path, config.max_photo_pixels)
        side = sidecar_path(self.path) if config.use_sidecar else None
        meta = merge_metadata(exif, xmp, read_sidecar(side) if side else {})
        height, width = pixels.shape[:2]
        camera = CameraModel(
            intrinsics_from(meta, width, height, self.path),
            pose_from(meta, config.altitude_reference, self.path),
        )
        self.metadata = meta
        self._pixels = pixels
        self._georef = PhotoGeoreferencer(camera, ground or ground_for(config))

    @property
    def size_wh_px(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return int(self._pixels.shape[1]), int(self._pixels.shape[0])

    @property
    def georeferencer(self) -> PhotoGeoreferencer:
        """Pinhole camera georeferencing of this photo."""
        return self._georef

    def read_tile(self, window: TileWindow) -> RgbImage | None:
        """A view of the decoded photo (photos have no nodata)."""
        r, c = window.row_off, window.col_off
        return self._pixels[r : r + window.height, c : c + window.width]

    def close(self) -> None:
        """Drop the decoded pixels."""
        self._pixels = np.zeros((1, 1, 3), np.uint8)

    def __enter__(self) -> PhotoSource:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
