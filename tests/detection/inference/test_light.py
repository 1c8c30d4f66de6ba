from __future__ import annotations

import numpy as np
import pytest

from detection.inference.light import luminance, relative_light
from detection.inference.slicing import TileWindow


def _reader(image: np.ndarray, calls: list[TileWindow] | None = None):  # type: ignore[no-untyped-def]
    def read(tile: TileWindow) -> np.ndarray:
        if calls is not None:
            calls.append(tile)
        rows = slice(tile.row_off, tile.row_off + tile.height)
        return image[rows, tile.col_off : tile.col_off + tile.width]

    return read


def _night(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(4, 14, size=(400, 600, 3), dtype=np.uint8)  # dark, noisy ground


def test_a_lit_object_on_dark_ground_is_many_times_brighter() -> None:
    image = _night()
    image[100:160, 200:300] = 180  # a floodlit machine
    image[300:340, 400:480] = 11  # a car standing dark
    read = _reader(image)
    lit = relative_light(read, (600, 400), (200.0, 100.0, 300.0, 160.0))
    dark = relative_light(read, (600, 400), (400.0, 300.0, 480.0, 340.0))
    assert lit is not None
    assert dark is not None
    # the context is the box grown by its own size on every side: columns 100–400, rows 40–220
    lit_1 = relative_light(read, (600, 400), (200.0, 100.0, 300.0, 160.0), grow=1.0)
    assert lit_1 == pytest.approx(180 / np.median(luminance(image[40:220, 100:400])), rel=1e-6)
    assert lit > 15
    assert dark == pytest.approx(1.2, abs=0.3)


def test_only_a_window_around_the_box_is_read_clipped_to_the_image() -> None:
    calls: list[TileWindow] = []
    image = _night()
    relative_light(_reader(image, calls), (600, 400), (10.5, 20.0, 50.0, 60.0), grow=1.0)
    (win,) = calls
    assert (win.col_off, win.row_off) == (0, 0)  # clipped at the top-left corner
    assert (win.col_off + win.width, win.row_off + win.height) == (90, 100)


def test_unreadable_or_empty_boxes_give_none_and_bad_options_are_refused() -> None:
    image = _night()
    assert relative_light(lambda t: None, (600, 400), (10.0, 10.0, 50.0, 50.0)) is None
    assert relative_light(_reader(image), (600, 400), (700.0, 10.0, 800.0, 50.0)) is None
    with pytest.raises(ValueError, match="grow"):
        relative_light(_reader(image), (600, 400), (10.0, 10.0, 50.0, 50.0), grow=-1.0)


def test_a_black_scene_does_not_blow_the_ratio_up() -> None:
    image = np.zeros((100, 100, 3), np.uint8)
    image[40:60, 40:60] = 50
    assert relative_light(_reader(image), (100, 100), (40.0, 40.0, 60.0, 60.0)) == pytest.approx(
        50.0, rel=1e-5
    )


def test_the_context_window_is_bounded_around_the_box() -> None:
    calls: list[TileWindow] = []
    image = np.full((3000, 5000, 3), 10, np.uint8)
    image[1000:1200, 500:800] = 200
    box = (500.0, 1000.0, 800.0, 1200.0)  # grown 10x: 3000+ px each way, clipped to the image
    light = relative_light(_reader(image, calls), (5000, 3000), box, max_context_px=1024)
    (win,) = calls
    assert win.width == 1024
    assert win.height == 1024
    x0, y0, x1, y1 = (int(v) for v in box)
    assert win.col_off <= x0
    assert x1 <= win.col_off + win.width
    assert win.row_off <= y0
    assert y1 <= win.row_off + win.height
    assert light == pytest.approx(20.0)
