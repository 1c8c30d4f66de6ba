"""GeoTIFF/COG source: windowed reads only, nodata tiles skipped, clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detection.errors import ImageInputError
from detection.inference import tile_windows
from detection.sources import RasterSource, SourceConfig, open_source
from detection.sources.testing import write_geotiff


def _pixels(h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("crs", ["EPSG:32649", "EPSG:3857", "EPSG:4547"])
def test_tiles_match_the_raster_and_reads_are_windowed(tmp_path: Path, crs: str) -> None:
    pixels = _pixels(300, 520, seed=5)
    origin = (12_620_000.0, 2_620_000.0) if crs == "EPSG:3857" else (450_000.0, 2_540_000.0)
    path = write_geotiff(tmp_path / "ortho.tif", pixels, crs=crs, origin_xy=origin)
    with RasterSource(path) as src:
        assert src.size_wh_px == (520, 300)
        windows_read: list[tuple[int, int]] = []
        real_read = src._src.read

        def spy(*args: object, **kwargs: object) -> np.ndarray:
            win = kwargs["window"]
            windows_read.append((int(win.width), int(win.height)))  # type: ignore[attr-defined]
            return np.asarray(real_read(*args, **kwargs))

        src._src.read = spy
        for t in tile_windows(520, 300, 128, 0.25):
            tile = src.read_tile(t)
            assert tile is not None
            expected = pixels[t.row_off : t.row_off + t.height, t.col_off : t.col_off + t.width]
            np.testing.assert_array_equal(tile, expected)
        assert windows_read
        assert max(w * h for w, h in windows_read) <= 128 * 128


@pytest.mark.parametrize("nodata_value", [None, 0])
def test_nodata_tiles_are_skipped(tmp_path: Path, nodata_value: int | None) -> None:
    pixels = _pixels(256, 512, seed=6) | np.uint8(1)  # no genuine zeros: only the strip is nodata
    mask = np.zeros((256, 512), bool)
    mask[:, 256:] = True  # right half has no data (mask band, or nodata value 0)
    path = write_geotiff(tmp_path / "half.tif", pixels, nodata_mask=mask, nodata_value=nodata_value)
    with RasterSource(path) as src:
        results = {t.col_off: src.read_tile(t) for t in tile_windows(512, 256, 128, 0.0)}
    assert all(results[c] is not None for c in (0, 128))
    assert all(results[c] is None for c in (256, 384))


def test_raster_without_georeferencing_is_refused(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / "plain.tif", _pixels(64, 64, 1), crs=None)
    with pytest.raises(ImageInputError, match="no georeferencing"):
        open_source(path)


def test_corrupt_and_truncated_rasters_fail_clearly(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tif"
    junk.write_bytes(np.random.default_rng(2).bytes(4096))
    with pytest.raises(ImageInputError, match="not a readable raster"):
        open_source(junk)
    good = write_geotiff(tmp_path / "full.tif", _pixels(512, 512, 3), tiled=True)
    cut = tmp_path / "cut.tif"
    data = good.read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    first, last = tile_windows(512, 512, 256, 0.0)[::3]
    with RasterSource(cut) as src:
        assert src.read_tile(first) is not None  # the header and first tile survived the cut
        with pytest.raises(ImageInputError, match="truncated or corrupt"):
            src.read_tile(last)


def test_absurd_dimensions_are_refused_before_reading(tmp_path: Path) -> None:
    path = write_geotiff(tmp_path / "big.tif", _pixels(300, 400, 4))
    with pytest.raises(ImageInputError, match="exceeds the limit"):
        RasterSource(path, SourceConfig(max_raster_pixels=100_000))


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ImageInputError, match="no such file"):
        open_source(tmp_path / "nope.tif")
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    with pytest.raises(ImageInputError, match="unsupported file type"):
        open_source(other)
