"""Sliced inference: cut a large image into overlapping tiles, detect, merge across seams.

Why a dedicated merge: an object lying across a seam is seen by two (or four) tiles, each
reporting the part inside it. Plain NMS keeps both parts (their IoU is low). Here, boxes of
the same class from *different* tiles are joined when they describe the same pixels in the
region the two tiles share (``MergeMetric.SHARED_IOU``): both tiles see identical pixels there,
so one object gives near-identical boxes inside the shared region, however large it is, while
two neighbouring objects stay apart. Joined boxes become their union, scored by the best part.
Merging needs an overlap of at least one pixel between tiles.

One case the shared-region IoU misses: a tile that sees only a corner of an object may box
just the part it recognises (the top of a crane's cab, not the full width of the machine), so
inside the shared region its box is narrower than the other tile's. Such a box is a *partial
view*: it touches a side of its own tile beyond which the other tile goes on. A partial view
whose shared-region part lies within the other box's (``SliceConfig.partial_view_ios``,
intersection over the smaller) joins it too. Two objects side by side are not joined by this:
neither box lies inside the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
from numpy.typing import NDArray

from detection.inference._types import Detection, Detector, RgbImage


class MergeMetric(Enum):
    """How two boxes from different tiles are judged to be the same object."""

    SHARED_IOU = "shared_iou"  # IoU of both boxes clipped to the tiles' common region
    IOS = "ios"  # intersection over the smaller box (SAHI's default)
    IOU = "iou"  # plain intersection over union


@dataclass(frozen=True)
class SliceConfig:
    """Tiling and merging options.

    ``tile_size_px`` of ``None`` uses the detector's input size, so tiles are not resampled.
    """

    tile_size_px: int | None = None
    overlap_ratio: float = 0.2
    merge_metric: MergeMetric = MergeMetric.SHARED_IOU
    merge_threshold: float = 0.5
    tiles_per_batch: int = 8
    partial_view_ios: float | None = 0.9

    def __post_init__(self) -> None:
        if self.tile_size_px is not None and self.tile_size_px < 32:
            raise ValueError(f"tile_size_px {self.tile_size_px} must be >= 32 (or None)")
        if not 0.0 <= self.overlap_ratio < 0.9:
            raise ValueError(f"overlap_ratio {self.overlap_ratio} must be within [0, 0.9)")
        if not 0.0 < self.merge_threshold <= 1.0:
            raise ValueError(f"merge_threshold {self.merge_threshold} must be within (0, 1]")
        if self.tiles_per_batch < 1:
            raise ValueError(f"tiles_per_batch {self.tiles_per_batch} must be >= 1")
        ios = self.partial_view_ios
        if ios is not None and not 0.0 < ios <= 1.0:
            raise ValueError(f"partial_view_ios {ios} must be within (0, 1], or None (off)")


@dataclass(frozen=True)
class TileWindow:
    """A tile: its position in the whole image (pixels) and its index in the tiling."""

    index: int
    col_off: int
    row_off: int
    width: int
    height: int

    @property
    def bounds_xyxy_px(self) -> tuple[int, int, int, int]:
        """Tile extent in whole-image pixels."""
        return self.col_off, self.row_off, self.col_off + self.width, self.row_off + self.height


@dataclass(frozen=True)
class SlicedResult:
    """Merged detections of one image and the tile accounting behind them."""

    detections: list[Detection]
    tiles_total: int
    tiles_skipped: int


def _starts(length_px: int, tile_px: int, stride_px: int) -> list[int]:
    if length_px <= tile_px:
        return [0]
    starts = list(range(0, length_px - tile_px, stride_px))
    starts.append(length_px - tile_px)  # last tile flush with the edge, never past it
    return sorted(set(starts))


def tile_windows(
    width_px: int, height_px: int, tile_px: int, overlap_ratio: float
) -> list[TileWindow]:
    """Row-major tiles covering the image; neighbours overlap by ``round(tile * ratio)`` px."""
    if width_px < 1 or height_px < 1:
        raise ValueError(f"image size {width_px}x{height_px} must be positive")
    stride = max(1, tile_px - round(tile_px * overlap_ratio))
    windows: list[TileWindow] = []
    for row in _starts(height_px, tile_px, stride):
        for col in _starts(width_px, tile_px, stride):
            w, h = min(tile_px, width_px - col), min(tile_px, height_px - row)
            windows.append(TileWindow(len(windows), col, row, w, h))
    return windows


def _clip_boxes(boxes: NDArray[np.float64], regions: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.concatenate(
        [np.maximum(boxes[:, :2], regions[:, :2]), np.minimum(boxes[:, 2:], regions[:, 2:])], 1
    )


def _in_shared_region(
    boxes: NDArray[np.float64], tiles: NDArray[np.float64], i: NDArray[np.intp], j: NDArray[np.intp]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Both boxes of each pair clipped to the region their two tiles share."""
    shared = np.concatenate(
        [np.maximum(tiles[i, :2], tiles[j, :2]), np.minimum(tiles[i, 2:], tiles[j, 2:])], 1
    )
    return _clip_boxes(boxes[i], shared), _clip_boxes(boxes[j], shared)


def _overlap(
    a: NDArray[np.float64], b: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per pair: intersection area, area of a, area of b."""
    iw = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    ih = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    return inter, area_a, area_b


def _ratio(num: NDArray[np.float64], denom: NDArray[np.float64]) -> NDArray[np.float64]:
    out: NDArray[np.float64] = np.divide(num, denom, out=np.zeros_like(num), where=denom > 0)
    return out


def _pair_scores(
    boxes: NDArray[np.float64],
    tiles: NDArray[np.float64],
    i: NDArray[np.intp],
    j: NDArray[np.intp],
    metric: MergeMetric,
) -> NDArray[np.float64]:
    if metric is MergeMetric.SHARED_IOU:
        a, b = _in_shared_region(boxes, tiles, i, j)
    else:
        a, b = boxes[i], boxes[j]
    inter, area_a, area_b = _overlap(a, b)
    denom = np.minimum(area_a, area_b) if metric is MergeMetric.IOS else area_a + area_b - inter
    return _ratio(inter, denom)


def _cut_by_tile(
    box: NDArray[np.float64], own: NDArray[np.float64], other: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """The box touches a side of its own tile beyond which the other tile goes on."""
    tol = 1.0
    return (
        ((box[:, 0] <= own[:, 0] + tol) & (other[:, 0] < own[:, 0]))
        | ((box[:, 1] <= own[:, 1] + tol) & (other[:, 1] < own[:, 1]))
        | ((box[:, 2] >= own[:, 2] - tol) & (other[:, 2] > own[:, 2]))
        | ((box[:, 3] >= own[:, 3] - tol) & (other[:, 3] > own[:, 3]))
    )


def _partial_view_ios(
    boxes: NDArray[np.float64], tiles: NDArray[np.float64], i: NDArray[np.intp], j: NDArray[np.intp]
) -> NDArray[np.float64]:
    """Per pair: in the tiles' shared region, the smaller box's share inside the other's, when
    the smaller one is a partial view (cut by its own tile); 0 otherwise."""
    inter, area_a, area_b = _overlap(*_in_shared_region(boxes, tiles, i, j))
    cut = np.where(
        area_a <= area_b,
        _cut_by_tile(boxes[i], tiles[i], tiles[j]),
        _cut_by_tile(boxes[j], tiles[j], tiles[i]),
    )
    return np.where(cut, _ratio(inter, np.minimum(area_a, area_b)), 0.0)


def merge_across_tiles(
    detections: Sequence[Detection], tiles: Sequence[TileWindow], config: SliceConfig
) -> list[Detection]:
    """Join same-class boxes from different tiles that describe one object (see module doc).

    ``detections[k]`` is in whole-image pixels and came from ``tiles[k]``. Joining is
    transitive, so an object spanning many tiles ends as one box.
    """
    if len(detections) < 2:
        return list(detections)
    import shapely  # noqa: PLC0415 - spatial index only needed for merging
    from scipy.sparse import coo_matrix  # noqa: PLC0415
    from scipy.sparse.csgraph import connected_components  # noqa: PLC0415

    boxes = np.array([d.box_xyxy_px for d in detections], dtype=np.float64)
    tile_boxes = np.array([t.bounds_xyxy_px for t in tiles], dtype=np.float64)
    tile_ids = np.array([t.index for t in tiles])
    classes = np.array([d.class_index for d in detections])
    tree = shapely.STRtree(shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]))
    i, j = tree.query(tree.geometries, predicate="intersects")
    keep = (i < j) & (classes[i] == classes[j]) & (tile_ids[i] != tile_ids[j])
    i, j = i[keep], j[keep]
    same = _pair_scores(boxes, tile_boxes, i, j, config.merge_metric) >= config.merge_threshold
    if config.merge_metric is MergeMetric.SHARED_IOU and config.partial_view_ios is not None:
        same |= _partial_view_ios(boxes, tile_boxes, i, j) >= config.partial_view_ios
    n = len(detections)
    graph = coo_matrix((np.ones(int(same.sum())), (i[same], j[same])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    merged: list[Detection] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        best = max((detections[int(m)] for m in members), key=lambda d: d.score)
        part = boxes[members]
        union = (
            float(part[:, 0].min()),
            float(part[:, 1].min()),
            float(part[:, 2].max()),
            float(part[:, 3].max()),
        )
        merged.append(Detection(best.class_index, best.class_name, best.score, union))
    return merged


def _batches(
    windows: Sequence[TileWindow], read_tile: Callable[[TileWindow], RgbImage | None], size: int
) -> Iterator[tuple[list[TileWindow], list[RgbImage], int]]:
    """Yield (tiles, arrays, skipped count) with at most ``size`` arrays in memory at once."""
    tiles: list[TileWindow] = []
    arrays: list[RgbImage] = []
    skipped = 0
    for window in windows:
        array = read_tile(window)
        if array is None:
            skipped += 1
            continue
        tiles.append(window)
        arrays.append(array)
        if len(arrays) == size:
            yield tiles, arrays, skipped
            tiles, arrays, skipped = [], [], 0
    yield tiles, arrays, skipped


def detect_sliced(
    detector: Detector,
    size_wh_px: tuple[int, int],
    read_tile: Callable[[TileWindow], RgbImage | None],
    config: SliceConfig,
    on_tiles_done: Callable[[int], None] | None = None,
) -> SlicedResult:
    """Detect over a whole image read tile by tile, merging across seams.

    ``read_tile`` returns a tile's RGB pixels, or ``None`` to skip it (e.g. nodata only), so a
    raster never has to be in memory as a whole.
    """
    tile_px = config.tile_size_px or max(detector.input_size_px)
    windows = tile_windows(size_wh_px[0], size_wh_px[1], tile_px, config.overlap_ratio)
    found: list[Detection] = []
    origins: list[TileWindow] = []
    skipped_total = 0
    for tiles, arrays, skipped in _batches(windows, read_tile, config.tiles_per_batch):
        skipped_total += skipped
        if arrays:
            for tile, dets in zip(tiles, detector.detect(arrays), strict=True):
                found.extend(d.shifted(tile.col_off, tile.row_off) for d in dets)
                origins.extend(tile for _ in dets)
        if on_tiles_done is not None:
            on_tiles_done(len(tiles) + skipped)
    merged = merge_across_tiles(found, origins, config)
    return SlicedResult(merged, tiles_total=len(windows), tiles_skipped=skipped_total)
