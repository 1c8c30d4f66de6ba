"""Choose a backend from the weights file, so callers never name a framework."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from detection.errors import ModelError
from detection.inference._types import Detector, DetectorConfig


class Backend(Enum):
    """Model runtimes; ONNX Runtime is the default for inference (no torch needed)."""

    ONNX = ".onnx"
    ULTRALYTICS = ".pt"


def backend_for(path: Path) -> Backend:
    """Backend implied by the file extension, with a fix-it message for anything else."""
    suffix = path.suffix.lower()
    for backend in Backend:
        if backend.value == suffix:
            return backend
    raise ModelError(
        f"{path}: unknown model format {suffix!r}; use an ONNX export (.onnx, recommended) "
        "or ultralytics weights (.pt, needs the train extra)"
    )


def load_detector(path: Path | str, config: DetectorConfig | None = None) -> Detector:
    """Load weights with the backend their extension calls for."""
    model_path = Path(path)
    backend = backend_for(model_path)
    if backend is Backend.ONNX:
        from detection.inference._onnx_backend import OnnxDetector  # noqa: PLC0415

        return OnnxDetector(model_path, config)
    from detection.inference._ultralytics_backend import UltralyticsDetector  # noqa: PLC0415

    return UltralyticsDetector(model_path, config)
