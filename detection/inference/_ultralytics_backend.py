"""ultralytics backend for ``.pt`` weights — for training-time checks and the ORT comparison.

ultralytics and torch live in the optional ``train`` extra; they are imported only when this
backend is constructed, so ``import detection.inference`` never pulls in torch.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from detection.errors import ModelError
from detection.inference._types import Detection, DetectorConfig, RgbImage, check_rgb


class UltralyticsDetector:
    """Runs a ``.pt`` YOLO model through ultralytics, on the CPU unless told otherwise."""

    def __init__(
        self, model_path: Path | str, config: DetectorConfig | None = None, device: str = "cpu"
    ) -> None:
        self.model_path = Path(model_path)
        self.config = config or DetectorConfig()
        self.device = device
        if not self.model_path.is_file():
            raise ModelError(f"{self.model_path}: model file not found; pass --model PATH")
        # Never let ultralytics reach the network (settings sync, font or asset downloads).
        os.environ.setdefault("YOLO_OFFLINE", "1")
        try:
            ultralytics = importlib.import_module("ultralytics")  # optional, heavy
        except ImportError as e:
            raise ModelError(
                "ultralytics is not installed; install the training extra "
                "(pip install 'nestpatrol[train]') or export the model to ONNX and use that"
            ) from e
        try:
            self._model: Any = ultralytics.YOLO(str(self.model_path), task="detect")
        except (OSError, TypeError, RuntimeError, ValueError, KeyError, AttributeError) as e:
            raise ModelError(f"{self.model_path}: ultralytics cannot load the weights ({e})") from e
        names = self._model.names
        self._class_names = tuple(str(names[k]) for k in sorted(names))
        imgsz = self._model.overrides.get("imgsz") or self.config.input_size_px
        size = int(imgsz[0] if isinstance(imgsz, list | tuple) else imgsz)
        self._input_hw = (size, size)

    @property
    def class_names(self) -> tuple[str, ...]:
        """Class names in model output order."""
        return self._class_names

    @property
    def input_size_px(self) -> tuple[int, int]:
        """``(height, width)`` the model is run at."""
        return self._input_hw

    def detect(self, images: Sequence[RgbImage]) -> list[list[Detection]]:
        """Detections per image; ultralytics wants BGR arrays, so channels are flipped."""
        bgr = [
            np.ascontiguousarray(check_rgb(im, where=f"image {i}")[..., ::-1])
            for i, im in enumerate(images)
        ]
        results: list[list[Detection]] = []
        for start in range(0, len(bgr), self.config.batch_size):
            chunk = bgr[start : start + self.config.batch_size]
            outputs = self._model.predict(
                chunk,
                imgsz=self._input_hw[0],
                conf=self.config.conf_threshold,
                iou=self.config.iou_threshold,
                max_det=self.config.max_detections,
                device=self.device,
                verbose=False,
            )
            results.extend(self._convert(out) for out in outputs)
        return results

    def _convert(self, result: Any) -> list[Detection]:
        boxes = result.boxes
        xyxy = boxes.xyxy.cpu().numpy().astype(np.float64)
        scores = boxes.conf.cpu().numpy().astype(np.float64)
        classes = boxes.cls.cpu().numpy().astype(np.int64)
        return [
            Detection(
                class_index=int(c),
                class_name=self._class_names[int(c)],
                score=float(s),
                box_xyxy_px=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
            )
            for b, s, c in zip(xyxy, scores, classes, strict=True)
        ]
