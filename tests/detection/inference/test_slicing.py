"""Tiling invariants and seam merging, tested exactly with a detector that sees painted blobs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detection.inference import (
    Detection,
    MergeMetric,
    SliceConfig,
    TileWindow,
    detect_sliced,
    merge_across_tiles,
    tile_windows,
)
from detection.inference.testing import ColourBlobDetector

COLOURS = [(255, 0, 0), (0, 0, 255)]
NAMES = ["illegal_structure", "muck_truck"]
Box = tuple[int, int, int, int, int]  # class, x0, y0, x1, y1


@settings(max_examples=60, deadline=None)
@given(
    w=st.integers(1, 700),
    h=st.integers(1, 700),
    tile=st.integers(32, 256),
    overlap=st.floats(0.0, 0.6),
)
def test_tiles_cover_the_image_within_bounds_and_overlap(
    w: int, h: int, tile: int, overlap: float
) -> None:
    windows = tile_windows(w, h, tile, overlap)
    covered = np.zeros((h, w), bool)
    for t in windows:
        assert t.col_off >= 0
        assert t.col_off + t.width <= w
        assert t.row_off >= 0
        assert t.row_off + t.height <= h
        assert t.width == min(tile, w)
        assert t.height == min(tile, h)
        covered[t.row_off : t.row_off + t.height, t.col_off : t.col_off + t.width] = True
    assert covered.all()
    cols = sorted({t.col_off for t in windows})
    steps = np.diff(cols)
    assert (steps <= tile - round(tile * overlap)).all() if steps.size else True


def _paint(boxes: list[Box], w: int, h: int) -> np.ndarray:
    image = np.zeros((h, w, 3), np.uint8)
    for c, x0, y0, x1, y1 in boxes:
        image[y0:y1, x0:x1] = COLOURS[c]
    return image


def _run(image: np.ndarray, config: SliceConfig) -> tuple[list[Detection], ColourBlobDetector]:
    det = ColourBlobDetector(COLOURS, NAMES)
    h, w = image.shape[:2]

    def read(t: TileWindow) -> np.ndarray:
        return image[t.row_off : t.row_off + t.height, t.col_off : t.col_off + t.width]

    return detect_sliced(det, (w, h), read, config).detections, det


def _as_set(dets: list[Detection]) -> set[tuple[int, float, float, float, float]]:
    return {(d.class_index, *d.box_xyxy_px) for d in dets}


@st.composite
def scenes(draw: st.DrawFn) -> tuple[list[Box], int, int]:
    """Non-touching rectangles (a 1 px gap between same-class blobs) of random size."""
    w, h = draw(st.integers(64, 320)), draw(st.integers(64, 320))
    occupied = np.zeros((h, w), bool)
    boxes: list[Box] = []
    for _ in range(draw(st.integers(1, 8))):
        bw, bh = draw(st.integers(2, w // 2)), draw(st.integers(2, h // 2))
        x0, y0 = draw(st.integers(0, w - bw)), draw(st.integers(0, h - bh))
        if occupied[max(0, y0 - 1) : y0 + bh + 1, max(0, x0 - 1) : x0 + bw + 1].any():
            continue
        occupied[y0 : y0 + bh, x0 : x0 + bw] = True
        boxes.append((draw(st.integers(0, 1)), x0, y0, x0 + bw, y0 + bh))
    return boxes, w, h


@settings(max_examples=40, deadline=None)
@given(scene=scenes(), tile=st.integers(32, 96), overlap=st.floats(0.05, 0.5))
def test_sliced_detection_returns_each_object_once_with_its_full_box(
    scene: tuple[list[Box], int, int], tile: int, overlap: float
) -> None:
    boxes, w, h = scene
    found, _ = _run(_paint(boxes, w, h), SliceConfig(tile_size_px=tile, overlap_ratio=overlap))
    assert _as_set(found) == {
        (c, float(x0), float(y0), float(x1), float(y1)) for c, x0, y0, x1, y1 in boxes
    }
    assert len(found) == len(boxes)


def test_object_on_a_four_tile_corner_and_a_neighbour_across_the_seam() -> None:
    tile, overlap = 64, 0.25  # stride 48: tiles start at 0, 48, 96
    seam = 64 - 4  # inside the overlap band [48, 64)
    boxes: list[Box] = [
        (0, seam - 20, seam - 20, seam + 30, seam + 30),  # spans four tiles
        (0, seam + 32, seam - 5, seam + 40, seam + 5),  # same class, 2 px to its right
        (1, 2, 120, 150, 130),  # long thin object across three tiles
    ]
    found, det = _run(
        _paint(boxes, 160, 160), SliceConfig(tile_size_px=tile, overlap_ratio=overlap)
    )
    assert det.images_seen == len(tile_windows(160, 160, tile, overlap))
    assert _as_set(found) == {
        (c, float(a), float(b), float(x), float(y)) for c, a, b, x, y in boxes
    }


def test_plain_iou_merge_leaves_seam_duplicates_that_shared_iou_removes() -> None:
    """Documents why SHARED_IOU is the default: a big object split by a seam has low IoU."""
    boxes: list[Box] = [(0, 4, 10, 150, 40)]
    image = _paint(boxes, 160, 64)
    plain, _ = _run(image, SliceConfig(64, 0.25, MergeMetric.IOU))
    shared, _ = _run(image, SliceConfig(64, 0.25, MergeMetric.SHARED_IOU))
    assert len(plain) > 1
    assert len(shared) == 1


def test_skipped_tiles_are_counted_and_never_detected() -> None:
    det = ColourBlobDetector(COLOURS, NAMES)
    image = _paint([(0, 10, 10, 20, 20), (0, 130, 100, 150, 120)], 160, 160)

    def read(t: TileWindow) -> np.ndarray | None:
        if t.col_off >= 64:  # pretend the right part of the raster is nodata
            return None
        return image[t.row_off : t.row_off + t.height, t.col_off : t.col_off + t.width]

    result = detect_sliced(det, (160, 160), read, SliceConfig(64, 0.25))
    assert result.tiles_skipped > 0
    assert det.images_seen == result.tiles_total - result.tiles_skipped
    assert [d.box_xyxy_px for d in result.detections] == [(10.0, 10.0, 20.0, 20.0)]


def test_merge_keeps_same_tile_boxes_apart() -> None:
    tile = TileWindow(0, 0, 0, 64, 64)
    a = Detection(0, "x", 0.9, (0.0, 0.0, 10.0, 10.0))
    b = Detection(0, "x", 0.8, (1.0, 1.0, 11.0, 11.0))
    merged = merge_across_tiles([a, b], [tile, tile], SliceConfig())
    assert sorted(d.score for d in merged) == [0.8, 0.9]


def test_a_partial_view_cut_by_its_tile_joins_the_full_box_across_the_seam() -> None:
    """Tile A sees only the top of an object and boxes a narrower part of it, cut by A's
    bottom edge; tile B sees it whole. In the shared rows 48-64 their IoU is only 0.4."""
    a_tile, b_tile = TileWindow(0, 0, 0, 64, 64), TileWindow(1, 0, 48, 64, 64)
    part = Detection(0, "x", 0.4, (10.0, 40.0, 30.0, 64.0))
    whole = Detection(0, "x", 0.7, (10.0, 42.0, 60.0, 100.0))
    (merged,) = merge_across_tiles([part, whole], [a_tile, b_tile], SliceConfig())
    assert (merged.score, merged.box_xyxy_px) == (0.7, (10.0, 40.0, 60.0, 100.0))
    off = SliceConfig(partial_view_ios=None)
    assert len(merge_across_tiles([part, whole], [a_tile, b_tile], off)) == 2
    # the same small box ending short of A's edge is not cut by the tile: a separate object
    inside = Detection(0, "x", 0.4, (10.0, 40.0, 30.0, 60.0))
    assert len(merge_across_tiles([inside, whole], [a_tile, b_tile], SliceConfig())) == 2
    # a cut box beside the other, not inside it, stays apart
    beside = Detection(0, "x", 0.4, (40.0, 40.0, 60.0, 64.0))
    narrow = Detection(0, "x", 0.7, (10.0, 42.0, 38.0, 100.0))
    assert len(merge_across_tiles([beside, narrow], [a_tile, b_tile], SliceConfig())) == 2


def test_slice_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="overlap_ratio"):
        SliceConfig(overlap_ratio=0.95)
    with pytest.raises(ValueError, match="tile_size_px"):
        SliceConfig(tile_size_px=8)
    with pytest.raises(ValueError, match="partial_view_ios"):
        SliceConfig(partial_view_ios=0.0)
