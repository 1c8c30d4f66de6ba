"""Evaluate an exported detector on a YOLO- or COCO-format image set.

Works on the synthetic held-out split (whose ``scenes.jsonl`` also lists the confuser objects
in each frame, so false alarms can be blamed on pools, tarps, containers...) and on any set a
city labels itself in YOLO format (``images/`` beside ``labels/``) or as a COCO instances JSON
(:func:`evaluate_coco`, read by :mod:`detection.training.coco`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from detection.classes import CLASS_NAMES
from detection.errors import DatasetError
from detection.training.coco import read_coco
from detection.training.metrics import (
    ClassTally,
    FalseAlarms,
    FloatArray,
    iou_matrix,
    match,
    match_thresholds,
)
from detection.training.onnx_predict import Detections, OnnxPredictor

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"})


@dataclass(frozen=True)
class ClassMetrics:
    """One row of the report."""

    name: str
    instances: int
    precision: float
    recall: float
    ap50: float
    ap50_95: float = float("nan")


@dataclass(frozen=True)
class EvalReport:
    """Per-class metrics, their mean, and where confident false alarms came from."""

    images: int
    conf_threshold: float
    classes: tuple[ClassMetrics, ...]
    false_alarms: FalseAlarms
    notes: tuple[str, ...] = ()
    """What the ground truth left out (e.g. COCO categories that are not model classes)."""

    @property
    def map50(self) -> float:
        """Mean AP50 over classes that have instances."""
        values = [c.ap50 for c in self.classes if c.instances > 0]
        return float(np.mean(values)) if values else float("nan")

    @property
    def map50_95(self) -> float:
        """Mean AP over IoU 0.5:0.95 over classes that have instances."""
        values = [c.ap50_95 for c in self.classes if c.instances > 0]
        return float(np.mean(values)) if values else float("nan")

    def to_json(self) -> dict[str, object]:
        """Plain dict for ``--json`` output and model cards."""
        alarms = self.false_alarms
        out: dict[str, object] = {
            "images": self.images,
            "conf_threshold": self.conf_threshold,
            "map50": round(self.map50, 4),
            "map50_95": round(self.map50_95, 4),
            "classes": [
                {
                    "name": c.name,
                    "instances": c.instances,
                    "precision": round(c.precision, 4),
                    "recall": round(c.recall, 4),
                    "ap50": round(c.ap50, 4),
                    "ap50_95": round(c.ap50_95, 4),
                }
                for c in self.classes
            ],
            "false_positives": {f"{p} on {s}": n for (p, s), n in sorted(alarms.counts.items())},
            "confusers_seen": dict(sorted(alarms.confusers_seen.items())),
            "confusers_fired": dict(sorted(alarms.confusers_fired.items())),
        }
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def labels_dir_for(images_dir: Path) -> Path:
    """YOLO convention: the last ``images`` component of the path becomes ``labels``."""
    parts = list(images_dir.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            return Path(*parts)
    raise DatasetError(f"{images_dir} has no 'images' folder in its path; use images/ + labels/")


def read_yolo_labels(path: Path, width_px: int, height_px: int) -> list[tuple[int, FloatArray]]:
    """Class ids and xyxy pixel boxes of one label file (missing file = no objects)."""
    if not path.exists():
        return []
    out: list[tuple[int, FloatArray]] = []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            cls, cx, cy, w, h = int(fields[0]), *map(float, fields[1:5])
        except (ValueError, IndexError) as e:
            raise DatasetError(f"{path}:{n}: want 'class cx cy w h', got {line!r}") from e
        if not 0 <= cls < len(CLASS_NAMES):
            raise DatasetError(f"{path}:{n}: class {cls} outside 0..{len(CLASS_NAMES) - 1}")
        box = np.asarray(
            [
                (cx - w / 2) * width_px,
                (cy - h / 2) * height_px,
                (cx + w / 2) * width_px,
                (cy + h / 2) * height_px,
            ],
            dtype=np.float32,
        )
        out.append((cls, box))
    return out


def load_confusers(images_dir: Path) -> dict[str, list[tuple[str, FloatArray]]]:
    """Confuser boxes per image stem from a synthetic dataset's ``scenes.jsonl`` (if any)."""
    manifest = images_dir.parent.parent / "scenes.jsonl"
    if not manifest.exists():
        return {}
    found: dict[str, list[tuple[str, FloatArray]]] = {}
    for line in manifest.read_text().splitlines():
        rec = json.loads(line)
        if rec["split"] != images_dir.name:
            continue
        found[f"{rec['seed']:07d}"] = [
            (str(c[0]), np.asarray(c[1:5], dtype=np.float32)) for c in rec["confusers"]
        ]
    return found


def _by_class(
    det: Detections, gt: list[tuple[int, FloatArray]], cls: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    sel = det.classes == cls
    gt_boxes = [b for c, b in gt if c == cls]
    gt_arr = np.stack(gt_boxes) if gt_boxes else np.zeros((0, 4), dtype=np.float32)
    return det.boxes_xyxy[sel], det.scores[sel], gt_arr


def _score_image(
    det: Detections,
    *,
    gt: list[tuple[int, FloatArray]],
    confusers: list[tuple[str, FloatArray]],
    tallies: list[ClassTally],
    alarms: FalseAlarms,
    conf_threshold: float,
) -> None:
    for cls, tally in enumerate(tallies):
        boxes, scores, gt_boxes = _by_class(det, gt, cls)
        tp = match(boxes, scores, gt_boxes)
        tally.add(tp, scores, len(gt_boxes), match_thresholds(boxes, scores, gt_boxes))
        confident_fp = boxes[(~tp) & (scores >= conf_threshold)]
        others = [(CLASS_NAMES[c], b) for c, b in gt if c != cls]
        alarms.add(CLASS_NAMES[cls], confident_fp, others, confusers)
    confident = det.boxes_xyxy[det.scores >= conf_threshold]
    for kind, box in confusers:
        alarms.confusers_seen[kind] += 1
        if len(confident) and float(iou_matrix(box[None], confident).max()) >= 0.3:
            alarms.confusers_fired[kind] += 1


def list_images(images_dir: Path) -> list[Path]:
    """Image files of a folder, sorted; a clear error if there are none."""
    if not images_dir.is_dir():
        raise DatasetError(f"{images_dir} is not a folder of images")
    images = sorted(p for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise DatasetError(f"{images_dir} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return images


class Predictor(Protocol):
    """Anything that turns an RGB image into detections (the ONNX model, or a test fake)."""

    def predict(self, image: NDArray[np.uint8]) -> Detections:
        """Detections in the image's pixels, at a low confidence floor (AP needs the tail)."""
        ...


def _evaluate(
    predictor: Predictor,
    images: Sequence[Path],
    ground_truth: Callable[[int, Path, int, int], list[tuple[int, FloatArray]]],
    *,
    confusers: dict[str, list[tuple[str, FloatArray]]],
    conf_threshold: float,
    progress: Callable[[int, int], None] | None,
    notes: tuple[str, ...] = (),
) -> EvalReport:
    """Score ``predictor`` on ``images``; ``ground_truth(index, path, w, h)`` gives labels."""
    tallies = [ClassTally() for _ in CLASS_NAMES]
    alarms = FalseAlarms()
    for n, path in enumerate(images, start=1):
        with Image.open(path) as opened:
            image: NDArray[np.uint8] = np.asarray(opened.convert("RGB"))
        h, w = image.shape[:2]
        gt = ground_truth(n - 1, path, w, h)
        det = predictor.predict(image)
        _score_image(
            det,
            gt=gt,
            confusers=confusers.get(path.stem, []),
            tallies=tallies,
            alarms=alarms,
            conf_threshold=conf_threshold,
        )
        if progress is not None:
            progress(n, len(images))
    rows = []
    for name, tally in zip(CLASS_NAMES, tallies, strict=True):
        p, r, ap = tally.summary(conf_threshold)
        rows.append(ClassMetrics(name, tally.n_gt, p, r, ap, tally.ap50_95()))
    return EvalReport(len(images), conf_threshold, tuple(rows), alarms, notes)


def evaluate(
    model: Path | Predictor,
    images_dir: Path,
    conf_threshold: float = 0.25,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """Run the model on every image of ``images_dir`` and score it against its YOLO labels.

    ``model`` is an exported ``.onnx`` path or any :class:`Predictor`.
    """
    predictor: Predictor = OnnxPredictor(model) if isinstance(model, Path) else model
    labels_dir = labels_dir_for(images_dir)
    images = list_images(images_dir)[:limit]
    return _evaluate(
        predictor,
        images,
        lambda _, path, w, h: read_yolo_labels(labels_dir / f"{path.stem}.txt", w, h),
        confusers=load_confusers(images_dir),
        conf_threshold=conf_threshold,
        progress=progress,
    )


def evaluate_coco(
    model: Path | Predictor,
    annotations: Path,
    images_dir: Path | None = None,
    *,
    conf_threshold: float = 0.25,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """Like :func:`evaluate`, with ground truth from a COCO instances JSON.

    Images resolve under ``images_dir`` (default: the JSON's folder) and are scored in the
    JSON's order. Annotations of categories that are not model classes, and ``iscrowd=1``
    ones, are left out and listed in :attr:`EvalReport.notes`.
    """
    coco = read_coco(annotations, images_dir)
    predictor: Predictor = OnnxPredictor(model) if isinstance(model, Path) else model
    entries = coco.images[:limit]

    def ground_truth(index: int, path: Path, w: int, h: int) -> list[tuple[int, FloatArray]]:
        entry = entries[index]
        if (w, h) != (entry.width, entry.height):
            raise DatasetError(
                f"{annotations}: image id {entry.image_id} ({path}) is {w}x{h} px but the JSON "
                f"says {entry.width}x{entry.height}; fix width/height or point --images at the "
                "images the file was labelled on"
            )
        return entry.objects

    folder = annotations.parent if images_dir is None else images_dir
    return _evaluate(
        predictor,
        [e.path for e in entries],
        ground_truth,
        confusers=load_confusers(folder),
        conf_threshold=conf_threshold,
        progress=progress,
        notes=tuple(coco.notes()),
    )
