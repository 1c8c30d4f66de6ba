"""Model inference: one :class:`Detector` seam, ONNX Runtime and ultralytics backends, slicing.

Importing this package is cheap: ONNX Runtime, ultralytics and shapely are loaded only when a
model is loaded or tiles are merged.
"""

from detection.inference._loader import Backend, backend_for, load_detector
from detection.inference._onnx_backend import OnnxDetector
from detection.inference._types import Detection, Detector, DetectorConfig, RgbImage
from detection.inference._ultralytics_backend import UltralyticsDetector
from detection.inference.slicing import (
    MergeMetric,
    SliceConfig,
    SlicedResult,
    TileWindow,
    detect_sliced,
    merge_across_tiles,
    tile_windows,
)

__all__ = [
    "Backend",
    "Detection",
    "Detector",
    "DetectorConfig",
    "MergeMetric",
    "OnnxDetector",
    "RgbImage",
    "SliceConfig",
    "SlicedResult",
    "TileWindow",
    "UltralyticsDetector",
    "backend_for",
    "detect_sliced",
    "load_detector",
    "merge_across_tiles",
    "tile_windows",
]
