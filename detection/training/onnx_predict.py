"""Minimal ONNX Runtime predictor used by evaluation (no torch needed).

It decodes the standard ultralytics detection output [1, 4 + nc, N] (centre-x, centre-y,
width, height in letterboxed input pixels, then class scores) and runs class-aware NMS. It is
deliberately small and self-contained so ``nestpatrol model eval`` measures exactly the exported
graph; production inference (tiling, georeferencing, batching) lives in the detector backends.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from detection.errors import ModelError

FloatArray = NDArray[np.float32]
LETTERBOX_GREY = 114


@dataclass(frozen=True)
class Detections:
    """Boxes in original image pixels (x0, y0, x1, y1), their scores and class ids."""

    boxes_xyxy: FloatArray
    scores: FloatArray
    classes: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.scores.shape[0])


def letterbox(image: NDArray[np.uint8], size_px: int) -> tuple[FloatArray, float, float, float]:
    """Resize keeping aspect ratio and pad to a square, like ultralytics' ``LetterBox``.

    Returns the 1×3×S×S float32 RGB tensor in [0, 1], the scale and the x/y padding, which
    :func:`unletterbox` needs to map boxes back.
    """
    h, w = image.shape[:2]
    scale = min(size_px / h, size_px / w)
    new_w, new_h = round(w * scale), round(h * scale)
    resized = image
    if (new_w, new_h) != (w, h):
        bilinear = Image.Resampling.BILINEAR
        resized = np.asarray(Image.fromarray(image).resize((new_w, new_h), bilinear))
    pad_x, pad_y = (size_px - new_w) / 2, (size_px - new_h) / 2
    left, top = round(pad_x - 0.1), round(pad_y - 0.1)
    canvas = np.full((size_px, size_px, 3), LETTERBOX_GREY, dtype=np.uint8)
    canvas[top : top + new_h, left : left + new_w] = resized
    tensor = canvas.transpose(2, 0, 1)[None].astype(np.float32) / np.float32(255.0)
    return tensor, scale, float(left), float(top)


def nms(boxes: FloatArray, scores: FloatArray, iou_threshold: float) -> NDArray[np.int64]:
    """Greedy non-maximum suppression; indices of kept boxes, best first."""
    order = np.argsort(-scores)
    keep: list[int] = []
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        xx0 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy0 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx1 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy1 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(xx1 - xx0, 0, None) * np.clip(yy1 - yy0, 0, None)
        iou = inter / (areas[i] + areas[rest] - inter + 1e-9)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def decode(
    output: FloatArray, conf_threshold: float, iou_threshold: float, max_det: int = 300
) -> Detections:
    """Turn a raw [1, 4 + nc, N] output into NMS-filtered letterbox-space detections."""
    if output.ndim != 3 or output.shape[0] != 1 or output.shape[1] < 5:
        raise ModelError(f"unexpected model output shape {output.shape}; want [1, 4 + nc, N]")
    pred = output[0].T
    class_scores = pred[:, 4:]
    classes = class_scores.argmax(axis=1)
    scores = class_scores[np.arange(len(classes)), classes]
    keep = scores >= conf_threshold
    pred, classes, scores = pred[keep], classes[keep], scores[keep]
    cx, cy, w, h = pred[:, 0], pred[:, 1], pred[:, 2], pred[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    offset = classes[:, None].astype(np.float32) * np.float32(10_000.0)
    kept = nms(boxes + offset, scores, iou_threshold)[:max_det]
    return Detections(
        boxes[kept].astype(np.float32),
        scores[kept].astype(np.float32),
        classes[kept].astype(np.int64),
    )


class OnnxPredictor:
    """Runs an exported detector on whole images (letterboxed to the model's input size)."""

    def __init__(self, model_path: Path) -> None:
        import onnxruntime as ort  # noqa: PLC0415 - heavy native library, loaded on use

        if not model_path.exists():
            raise ModelError(f"{model_path} does not exist; pass an exported .onnx file")
        try:
            self._session = ort.InferenceSession(
                str(model_path), providers=["CPUExecutionProvider"]
            )
        except Exception as e:  # onnxruntime raises several private exception types
            raise ModelError(f"{model_path}: ONNX Runtime cannot load it: {e}") from e
        spec = self._session.get_inputs()[0]
        self._input_name = str(spec.name)
        size = spec.shape[-1]
        self.input_px = int(size) if isinstance(size, int) else 640

    def predict(
        self, image: NDArray[np.uint8], conf_threshold: float = 0.001, iou_threshold: float = 0.6
    ) -> Detections:
        """Detections for one RGB uint8 image, boxes in that image's pixels."""
        tensor, scale, left, top = letterbox(image, self.input_px)
        (output,) = self._session.run(None, {self._input_name: tensor})[:1]
        det = decode(np.asarray(output, dtype=np.float32), conf_threshold, iou_threshold)
        boxes = det.boxes_xyxy.copy()
        boxes[:, [0, 2]] = (boxes[:, [0, 2]] - left) / scale
        boxes[:, [1, 3]] = (boxes[:, [1, 3]] - top) / scale
        h, w = image.shape[:2]
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, w)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, h)
        return Detections(boxes, det.scores, det.classes)
