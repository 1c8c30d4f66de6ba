"""Box arithmetic in NumPy: IoU, intersection-over-smaller and class-aware NMS.

Kept free of any framework so the ONNX backend needs no torch/torchvision.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


def box_areas(boxes_xyxy: NDArray[np.floating]) -> FloatArray:
    """Areas of ``(N, 4)`` xyxy boxes; degenerate boxes have area 0."""
    b = boxes_xyxy.astype(np.float64, copy=False)
    return np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)


def pairwise_intersections(a: NDArray[np.floating], b: NDArray[np.floating]) -> FloatArray:
    """``(len(a), len(b))`` intersection areas."""
    a64 = a.astype(np.float64, copy=False)
    b64 = b.astype(np.float64, copy=False)
    w = np.minimum(a64[:, None, 2], b64[None, :, 2]) - np.maximum(a64[:, None, 0], b64[None, :, 0])
    h = np.minimum(a64[:, None, 3], b64[None, :, 3]) - np.maximum(a64[:, None, 1], b64[None, :, 1])
    out: FloatArray = np.clip(w, 0, None) * np.clip(h, 0, None)
    return out


def pairwise_iou(a: NDArray[np.floating], b: NDArray[np.floating]) -> FloatArray:
    """``(len(a), len(b))`` intersection over union."""
    inter = pairwise_intersections(a, b)
    union = box_areas(a)[:, None] + box_areas(b)[None, :] - inter
    out: FloatArray = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return out


def nms(
    boxes_xyxy: NDArray[np.floating], scores: NDArray[np.floating], iou_threshold: float
) -> NDArray[np.intp]:
    """Greedy non-maximum suppression; indexes of kept boxes, best score first."""
    order = np.argsort(-scores, kind="stable")
    areas = box_areas(boxes_xyxy)
    b = boxes_xyxy.astype(np.float64, copy=False)
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.minimum(b[i, 2], b[rest, 2]) - np.maximum(b[i, 0], b[rest, 0])
        h = np.minimum(b[i, 3], b[rest, 3]) - np.maximum(b[i, 1], b[rest, 1])
        inter = np.clip(w, 0, None) * np.clip(h, 0, None)
        union = areas[i] + areas[rest] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.intp)


def batched_nms(
    boxes_xyxy: NDArray[np.floating],
    scores: NDArray[np.floating],
    class_ids: NDArray[np.integer],
    iou_threshold: float,
) -> NDArray[np.intp]:
    """Per-class NMS: boxes of different classes never suppress each other.

    Uses the coordinate-offset trick (each class moved to its own region of the plane), which is
    what ultralytics does, so results match its post-processing.
    """
    if boxes_xyxy.shape[0] == 0:
        return np.zeros(0, dtype=np.intp)
    b = boxes_xyxy.astype(np.float64, copy=False)
    span = float(np.abs(b).max()) * 2.0 + 1.0
    offset = class_ids.astype(np.float64)[:, None] * span
    return nms(b + offset, scores, iou_threshold)
