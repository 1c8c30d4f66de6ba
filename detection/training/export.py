"""Export trained weights to ONNX and check the graph has the layout inference expects.

The ONNX Runtime backend of :mod:`detection` reads the standard ultralytics detection head:
input ``images`` 1×3×H×W float32 RGB in [0, 1] (letterboxed), output ``output0`` of shape
[1, 4 + nc, N] with boxes as centre-x, centre-y, width, height in input pixels followed by one
score per class (no NMS inside the graph).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from detection.classes import CLASS_NAMES
from detection.errors import ModelError, TrainingError
from detection.training.config import ExportConfig
from detection.training.offline import import_ultralytics


def export_onnx(config: ExportConfig) -> Path:
    """Write ``<weights>.onnx`` (or ``config.out_path``) and verify it with ONNX Runtime."""
    if not config.weights.exists():
        raise TrainingError(f"{config.weights} does not exist; train first or pass a .pt path")
    # ultralytics' settings go to a scratch folder, never next to the committed weights
    ultralytics = import_ultralytics(Path(tempfile.gettempdir()) / "nestpatrol-ultralytics")
    model = ultralytics.YOLO(str(config.weights), task="detect")
    imgsz = config.imgsz or int(model.overrides.get("imgsz", 640))
    produced = Path(
        model.export(
            format="onnx",
            imgsz=imgsz,
            opset=config.opset,
            dynamic=config.dynamic,
            simplify=config.simplify,
            nms=False,
            batch=1,
            device="cpu",
        )
    )
    target = config.out_path or config.weights.with_suffix(".onnx")
    if produced.resolve() != target.resolve():
        shutil.move(produced, target)
    check_onnx_layout(target, imgsz, len(CLASS_NAMES))
    return target


def check_onnx_layout(path: Path, imgsz: int, num_classes: int) -> tuple[int, ...]:
    """Run one blank image through the model; raise :class:`ModelError` on a wrong layout."""
    import onnxruntime as ort  # noqa: PLC0415 - heavy native library, loaded on use

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise ModelError(f"{path}: expected one input, found {[i.name for i in inputs]}")
    blank = np.zeros((1, 3, imgsz, imgsz), dtype=np.float32)
    (out,) = session.run(None, {inputs[0].name: blank})[:1]
    shape = tuple(int(d) for d in np.asarray(out).shape)
    if len(shape) != 3 or shape[0] != 1 or shape[1] != 4 + num_classes:
        raise ModelError(
            f"{path}: output shape {shape} is not [1, {4 + num_classes}, N]; export a "
            "YOLOv8/11 detection model without NMS (nms=False)"
        )
    return shape
