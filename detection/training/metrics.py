"""Detection metrics: per-class precision, recall, AP at IoU 0.5 and AP averaged over IoU
0.5:0.95 (COCO's mAP50-95), and false-alarm sources.

AP follows the COCO/ultralytics recipe (precision envelope sampled at 101 recall points), so
numbers are comparable with what ``yolo val`` prints. Precision and recall are reported at one
operating confidence, the one a deployment would use to raise clues.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float32]
BACKGROUND = "background"
# COCO's IoU thresholds for mAP50-95
IOU_THRESHOLDS: tuple[float, ...] = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))


def iou_matrix(a: FloatArray, b: FloatArray) -> FloatArray:
    """Pairwise IoU of xyxy boxes: shape (len(a), len(b))."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), dtype=np.float32)
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    iou: FloatArray = (inter / (area_a[:, None] + area_b[None, :] - inter + 1e-9)).astype(
        np.float32
    )
    return iou


def match(
    pred_boxes: FloatArray,
    pred_scores: FloatArray,
    gt_boxes: FloatArray,
    iou_threshold: float = 0.5,
) -> NDArray[np.bool_]:
    """Greedy best-score-first matching of one class in one image; True where a TP."""
    tp = np.zeros(len(pred_boxes), dtype=bool)
    if len(gt_boxes) == 0 or len(pred_boxes) == 0:
        return tp
    ious = iou_matrix(pred_boxes, gt_boxes)
    taken = np.zeros(len(gt_boxes), dtype=bool)
    for i in np.argsort(-pred_scores):
        candidates = np.where(~taken & (ious[i] >= iou_threshold))[0]
        if candidates.size:
            j = candidates[np.argmax(ious[i, candidates])]
            taken[j] = True
            tp[i] = True
    return tp


def match_thresholds(
    pred_boxes: FloatArray,
    pred_scores: FloatArray,
    gt_boxes: FloatArray,
    thresholds: tuple[float, ...] = IOU_THRESHOLDS,
) -> NDArray[np.bool_]:
    """:func:`match` at each IoU threshold: shape (len(pred_boxes), len(thresholds))."""
    columns = [match(pred_boxes, pred_scores, gt_boxes, t) for t in thresholds]
    return np.stack(columns, axis=1) if columns else np.zeros((len(pred_boxes), 0), dtype=bool)


def average_precision(tp: NDArray[np.bool_], scores: FloatArray, n_gt: int) -> float:
    """COCO 101-point AP: mean over recall levels of the best precision at that recall or more.

    Unreached recall levels count as zero precision, so missing half the objects caps AP at
    about 0.5 (ultralytics interpolates linearly to recall 1 instead, which reads a bit higher).
    """
    if n_gt == 0:
        return float("nan")
    if len(tp) == 0:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    hits = tp[order].astype(np.float64)
    tp_cum = np.cumsum(hits)
    recall = tp_cum / n_gt
    precision = tp_cum / np.arange(1, len(hits) + 1)
    envelope = np.flip(np.maximum.accumulate(np.flip(precision)))
    levels = np.linspace(0, 1, 101)
    idx = np.searchsorted(recall, levels - 1e-12, side="left")
    sampled = np.where(idx < len(envelope), envelope[np.minimum(idx, len(envelope) - 1)], 0.0)
    return float(sampled.mean())


@dataclass
class ClassTally:
    """Accumulated matches of one class over a dataset."""

    n_gt: int = 0
    tp: list[NDArray[np.bool_]] = field(default_factory=list)
    scores: list[FloatArray] = field(default_factory=list)
    tp_by_iou: list[NDArray[np.bool_]] = field(default_factory=list)

    def add(
        self,
        tp: NDArray[np.bool_],
        scores: FloatArray,
        n_gt: int,
        tp_by_iou: NDArray[np.bool_] | None = None,
    ) -> None:
        """Add one image's matches; ``tp_by_iou`` (one column per :data:`IOU_THRESHOLDS`)
        enables :meth:`ap50_95` and must then be given for every image."""
        self.tp.append(tp)
        self.scores.append(scores)
        self.n_gt += n_gt
        if tp_by_iou is not None:
            self.tp_by_iou.append(tp_by_iou)

    def ap50_95(self) -> float:
        """AP averaged over IoU 0.5:0.95 (NaN without ``tp_by_iou`` or without objects)."""
        if not self.tp_by_iou or len(self.tp_by_iou) != len(self.tp) or self.n_gt == 0:
            return float("nan")
        tp = np.concatenate(self.tp_by_iou)
        scores = np.concatenate(self.scores)
        aps = [average_precision(tp[:, k], scores, self.n_gt) for k in range(tp.shape[1])]
        return float(np.mean(aps))

    def summary(self, conf_threshold: float) -> tuple[float, float, float]:
        """(precision, recall) at ``conf_threshold`` and AP50 over all confidences."""
        tp = np.concatenate(self.tp) if self.tp else np.zeros(0, dtype=bool)
        scores = np.concatenate(self.scores) if self.scores else np.zeros(0, dtype=np.float32)
        ap = average_precision(tp, scores, self.n_gt)
        above = scores >= conf_threshold
        n_pred = int(above.sum())
        hits = int(tp[above].sum())
        precision = hits / n_pred if n_pred else 0.0
        recall = hits / self.n_gt if self.n_gt else float("nan")
        return precision, recall, ap


@dataclass
class FalseAlarms:
    """Where confident false positives land: a confuser kind, another class, or background."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    confusers_seen: Counter[str] = field(default_factory=Counter)
    confusers_fired: Counter[str] = field(default_factory=Counter)

    def add(
        self,
        pred_class: str,
        fp_boxes: FloatArray,
        other_gt: list[tuple[str, FloatArray]],
        confusers: list[tuple[str, FloatArray]],
    ) -> None:
        """Attribute each false-positive box to what it overlaps most (IoU ≥ 0.3)."""
        candidates = other_gt + confusers
        for box in fp_boxes:
            best, best_iou = BACKGROUND, 0.3
            for name, target in candidates:
                iou = float(iou_matrix(box[None], target[None])[0, 0])
                if iou >= best_iou:
                    best, best_iou = name, iou
            self.counts[(pred_class, best)] += 1
