"""Image sources: georeferenced rasters (GeoTIFF/COG) and drone photos with a camera pose.

:func:`iter_sources` picks the reader by file type (a video yields one source per sampled
frame); every failure to read or georeference a file is an
:class:`~detection.errors.ImageInputError` naming the file and the fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from detection.errors import ImageInputError
from detection.georef import GroundModel
from detection.sources._base import AltitudeReference, ImageSource, SourceConfig
from detection.sources.photo import PHOTO_SUFFIXES, PhotoSource
from detection.sources.photo_meta import PhotoMetadata
from detection.sources.raster import RASTER_SUFFIXES, RasterSource
from detection.sources.video import VIDEO_SUFFIXES, VideoFrameSource, iter_video_frames


def iter_sources(
    path: Path | str, config: SourceConfig | None = None, ground: GroundModel | None = None
) -> Iterator[ImageSource]:
    """The images in one file: one for a raster or photo, sampled frames for a video."""
    p = Path(path)
    if p.suffix.lower() in VIDEO_SUFFIXES:
        if not p.is_file():
            raise ImageInputError(f"{p}: no such file")
        yield from iter_video_frames(p, config or SourceConfig(), ground)
    else:
        yield open_source(p, config, ground)


def open_source(
    path: Path | str, config: SourceConfig | None = None, ground: GroundModel | None = None
) -> ImageSource:
    """Open ``path`` as a raster or a photo according to its extension.

    ``ground`` lets a batch share one (e.g. DEM) ground model across photos.
    """
    p = Path(path)
    if not p.is_file():
        raise ImageInputError(f"{p}: no such file")
    suffix = p.suffix.lower()
    if suffix in RASTER_SUFFIXES:
        return RasterSource(p, config)
    if suffix in PHOTO_SUFFIXES:
        return PhotoSource(p, config, ground)
    rasters, photos = ", ".join(sorted(RASTER_SUFFIXES)), ", ".join(sorted(PHOTO_SUFFIXES))
    videos = ", ".join(sorted(VIDEO_SUFFIXES))
    raise ImageInputError(
        f"{p}: unsupported file type {suffix!r}; give GeoTIFF/COG orthophotos ({rasters}), "
        f"drone photos ({photos}) or videos with telemetry ({videos})"
    )


__all__ = [
    "PHOTO_SUFFIXES",
    "RASTER_SUFFIXES",
    "VIDEO_SUFFIXES",
    "AltitudeReference",
    "ImageSource",
    "PhotoMetadata",
    "PhotoSource",
    "RasterSource",
    "SourceConfig",
    "VideoFrameSource",
    "iter_sources",
    "iter_video_frames",
    "open_source",
]
