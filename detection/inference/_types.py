"""The detector seam: one result type, one Protocol, one config shared by every backend.

Backends (ONNX Runtime, ultralytics) differ only in how they run a network; everything after
the network — thresholds, NMS, tiling, merging, georeferencing — sees the same
:class:`Detection`, so a backend can be swapped by configuration and faked in tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from detection.errors import ImageInputError

RgbImage = NDArray[np.uint8]
"""An RGB image, ``uint8``, shape ``(height, width, 3)``."""


@dataclass(frozen=True)
class Detection:
    """One object found in one image.

    ``box_xyxy_px`` is ``(x_min, y_min, x_max, y_max)`` in continuous pixel coordinates of the
    image that was passed to the detector (pixel ``(0, 0)`` covers ``[0, 1) × [0, 1)``).
    """

    class_index: int
    class_name: str
    score: float
    box_xyxy_px: tuple[float, float, float, float]

    @property
    def area_px2(self) -> float:
        """Box area in square pixels (zero for a degenerate box)."""
        x0, y0, x1, y1 = self.box_xyxy_px
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)

    def shifted(self, dx_px: float, dy_px: float) -> Detection:
        """The same detection in a frame whose origin is ``(-dx_px, -dy_px)`` from this one.

        Used to move a tile's detections into the coordinates of the whole image.
        """
        x0, y0, x1, y1 = self.box_xyxy_px
        return replace(self, box_xyxy_px=(x0 + dx_px, y0 + dy_px, x1 + dx_px, y1 + dy_px))


@dataclass(frozen=True)
class DetectorConfig:
    """Thresholds and runtime knobs shared by every backend.

    ``input_size_px`` is only a fallback: a model that records its own input size (ultralytics
    exports put ``imgsz`` in the ONNX metadata) is run at that size. ``spin_wait`` lets ONNX
    Runtime's idle threads busy-wait; off by default because on shared or small CPUs the
    spinning threads steal the cores that the work needs (measured 1.5-2x slower on 2 vCPUs).

    ``sessions`` (ONNX backend only) runs the images of one ``detect`` call on that many
    independent ONNX Runtime sessions at once, each with ``num_threads // sessions`` intra-op
    threads (at least 1; ``num_threads=None`` counts the usable cores), so that the tiles of a
    batch are inferred concurrently rather than one after another through one session. Output
    is the same as with one session, in the same order.
    """

    conf_threshold: float = 0.25
    iou_threshold: float = 0.45
    max_detections: int = 300
    batch_size: int = 8
    input_size_px: int = 640
    num_threads: int | None = None
    spin_wait: bool = False
    sessions: int = 1

    def __post_init__(self) -> None:
        if not 0.0 <= self.conf_threshold <= 1.0:
            raise ValueError(f"conf_threshold {self.conf_threshold} must be within [0, 1]")
        if not 0.0 < self.iou_threshold <= 1.0:
            raise ValueError(f"iou_threshold {self.iou_threshold} must be within (0, 1]")
        if self.max_detections < 1 or self.batch_size < 1 or self.input_size_px < 32:
            raise ValueError(
                "max_detections and batch_size must be >= 1 and input_size_px >= 32; "
                f"got {self.max_detections}, {self.batch_size}, {self.input_size_px}"
            )
        if self.num_threads is not None and self.num_threads < 1:
            raise ValueError(f"num_threads {self.num_threads} must be >= 1 or None (all cores)")
        if self.sessions < 1:
            raise ValueError(f"sessions {self.sessions} must be >= 1 (1: one ONNX Runtime session)")


@runtime_checkable
class Detector(Protocol):
    """Anything that turns a batch of RGB images into per-image detections.

    Implementations must not touch the network and must accept images of any size (they
    letterbox to their own input size and map boxes back).
    """

    @property
    def class_names(self) -> tuple[str, ...]:
        """Class names in model output order."""
        ...

    @property
    def input_size_px(self) -> tuple[int, int]:
        """``(height, width)`` the network runs at; the natural tile size for slicing."""
        ...

    def detect(self, images: Sequence[RgbImage]) -> list[list[Detection]]:
        """Detections for each image, in the order given, boxes in that image's pixels."""
        ...


def check_rgb(image: NDArray[np.generic], *, where: str) -> RgbImage:
    """Validate one input image early, so a wrong array fails with a message, not in ORT."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ImageInputError(
            f"{where}: expected an RGB uint8 array of shape (H, W, 3), got dtype {image.dtype} "
            f"and shape {image.shape}; convert with np.asarray(pil_image.convert('RGB'))"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ImageInputError(f"{where}: image is empty (shape {image.shape})")
    return image.astype(np.uint8, copy=False)
