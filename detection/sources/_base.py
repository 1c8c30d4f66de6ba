"""What every image source offers the pipeline, and the options that shape how files are read.

A source is opened per file, validated up front (so a bad file fails with one clear
:class:`~detection.errors.ImageInputError` before any inference), then read tile by tile.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

from detection.errors import ImageInputError
from detection.georef import Georeferencer
from detection.inference import RgbImage, TileWindow


class AltitudeReference(Enum):
    """Which altitude of a drone photo to trust, and so what ``ground_elevation_m`` means.

    ``TAKEOFF`` (default): DJI's ``RelativeAltitude`` — metres above the *take-off point*, not
    the ground below the photo. ``ground_elevation_m`` is then the ground's height relative to
    the take-off point: 0 when the dock stands on the same ground, e.g. -25 for a dock on a
    25 m roof over street-level targets.
    ``ABSOLUTE``: ``AbsoluteAltitude`` (or EXIF GPSAltitude), metres above sea level, with the
    ground from a DEM GeoTIFF or ``ground_elevation_m`` above sea level. GNSS altitude on
    consumer drones is often off by 10 m or more, so prefer ``TAKEOFF`` unless RTK is used.
    """

    TAKEOFF = "takeoff"
    ABSOLUTE = "absolute"


@dataclass(frozen=True)
class SourceConfig:
    """How files are opened and georeferenced.

    ``max_photo_pixels`` guards against decompression bombs (a photo is decoded whole);
    ``max_raster_pixels`` refuses absurd raster headers (rasters are read in windows).
    ``gdal_cache_mb`` caps GDAL's block cache, which otherwise grows to 5 % of RAM and would
    dominate the memory of a windowed read; 256 MB holds a band of tiles 100,000 px wide.
    """

    max_photo_pixels: int = 200_000_000
    max_raster_pixels: int = 100_000_000_000
    altitude_reference: AltitudeReference = AltitudeReference.TAKEOFF
    ground_elevation_m: float = 0.0
    dem_path: Path | None = None
    use_sidecar: bool = True
    video_frame_interval_s: float = 1.0
    gdal_cache_mb: int = 256

    def __post_init__(self) -> None:
        if self.dem_path is not None and self.altitude_reference is AltitudeReference.TAKEOFF:
            raise ValueError(
                "a DEM holds heights above sea level, but the altitude reference is 'takeoff'; "
                "use the absolute altitude reference with a DEM"
            )
        if self.max_photo_pixels < 1 or self.max_raster_pixels < 1:
            raise ValueError("pixel limits must be positive")
        if self.gdal_cache_mb < 8:
            raise ValueError(f"gdal_cache_mb {self.gdal_cache_mb} must be >= 8")
        if self.video_frame_interval_s <= 0:
            raise ValueError(f"video_frame_interval_s {self.video_frame_interval_s} must be > 0")


class ImageSource(Protocol):
    """One image to detect in: its size, its pixels tile by tile, and its georeferencing.

    ``frame_time_s`` is the position in the video for video frames, None otherwise.
    """

    path: Path
    frame_time_s: float | None

    @property
    def size_wh_px(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        ...

    @property
    def georeferencer(self) -> Georeferencer:
        """Maps this image's pixel boxes to WGS-84 polygons."""
        ...

    def read_tile(self, window: TileWindow) -> RgbImage | None:
        """RGB pixels of ``window``, or ``None`` when the window holds no data."""
        ...

    def close(self) -> None:
        """Release file handles."""
        ...


def check_pixel_count(path: Path, width: int, height: int, limit: int, what: str) -> None:
    """Refuse absurd dimensions before any pixel is decoded."""
    if width <= 0 or height <= 0:
        raise ImageInputError(f"{path}: {what} has no pixels ({width}x{height})")
    if width * height > limit:
        raise ImageInputError(
            f"{path}: {what} of {width}x{height} px ({width * height:,} px) exceeds the limit "
            f"of {limit:,} px — a corrupt header or decompression bomb; if genuine, split it or "
            "raise the limit"
        )
