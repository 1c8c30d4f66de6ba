"""GeoTIFF/COG orthophotos read through rasterio windows, in any CRS.

The raster is never read whole: each tile is one windowed read (COG internal tiles and
overviews make this cheap), and tiles whose mask says "no data" are skipped unread.
"""

from __future__ import annotations

import warnings
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from detection.errors import ImageInputError
from detection.georef import RasterGeoreferencer
from detection.inference import RgbImage, TileWindow
from detection.sources._base import SourceConfig, check_pixel_count

RASTER_SUFFIXES = frozenset({".tif", ".tiff", ".vrt", ".jp2", ".img"})


class RasterSource:
    """An open georeferenced raster; use as a context manager or call :meth:`close`."""

    def __init__(self, path: Path | str, config: SourceConfig | None = None) -> None:
        import rasterio  # noqa: PLC0415 - heavy, deferred
        from rasterio.errors import NotGeoreferencedWarning, RasterioIOError  # noqa: PLC0415

        self.path = Path(path)
        self.frame_time_s: float | None = None
        config = config or SourceConfig()
        self._stack = ExitStack()  # GDAL settings live exactly as long as the dataset
        self._stack.enter_context(rasterio.Env(GDAL_CACHEMAX=config.gdal_cache_mb))
        try:
            with warnings.catch_warnings():
                # We check georeferencing ourselves and say how to fix it.
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                self._src: Any = self._stack.enter_context(rasterio.open(self.path))
            self._validate(config)
        except RasterioIOError as e:
            self._stack.close()
            raise ImageInputError(
                f"{self.path}: not a readable raster ({e}); re-export or re-download it"
            ) from e
        except ImageInputError:
            self._stack.close()
            raise
        self._georef = RasterGeoreferencer(self._src.transform, self._src.crs)

    def _validate(self, config: SourceConfig) -> None:
        src = self._src
        check_pixel_count(self.path, src.width, src.height, config.max_raster_pixels, "raster")
        if src.crs is None or src.transform.is_identity:
            hint = " (it has GCPs: warp it with gdalwarp first)" if src.gcps[0] else ""
            raise ImageInputError(
                f"{self.path}: raster has no georeferencing (CRS/geotransform){hint}; "
                "assign them with gdal_translate -a_srs EPSG:xxxx -a_ullr ... or a world file"
            )
        dtype = np.dtype(src.dtypes[0])
        if dtype not in (np.uint8, np.uint16):
            raise ImageInputError(
                f"{self.path}: pixel type {dtype} is not 8/16-bit imagery; convert to 8-bit "
                "RGB (gdal_translate -ot Byte -scale)"
            )
        self._bands = (1, 2, 3) if src.count >= 3 else (1, 1, 1)
        self._shift = 8 if dtype == np.uint16 else 0
        self._has_mask = any(
            flag.name != "all_valid" for flags in src.mask_flag_enums for flag in flags
        )

    @property
    def size_wh_px(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return int(self._src.width), int(self._src.height)

    @property
    def georeferencer(self) -> RasterGeoreferencer:
        """Affine + CRS georeferencing of this raster."""
        return self._georef

    def read_tile(self, window: TileWindow) -> RgbImage | None:
        """One windowed read; ``None`` for windows that are nodata throughout."""
        from rasterio.errors import RasterioError  # noqa: PLC0415
        from rasterio.windows import Window  # noqa: PLC0415

        win = Window(window.col_off, window.row_off, window.width, window.height)
        try:
            if self._has_mask and not self._src.dataset_mask(window=win).any():
                return None
            data = self._src.read(self._bands, window=win)
        except RasterioError as e:
            raise ImageInputError(
                f"{self.path}: read failed at pixel window {window.bounds_xyxy_px} ({e}); "
                "the file is truncated or corrupt"
            ) from e
        if self._shift:
            data = data >> self._shift
        return np.ascontiguousarray(data.transpose(1, 2, 0), dtype=np.uint8)

    def close(self) -> None:
        """Close the dataset and restore GDAL settings."""
        self._stack.close()

    def __enter__(self) -> RasterSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
