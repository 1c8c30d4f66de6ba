"""Test doubles for the detector seam, shipped so every package's tests fake models one way.

- :func:`write_fixed_output_onnx` writes a tiny ONNX graph in the ultralytics detection layout
  whose boxes are given by the caller and whose class scores scale with each image's mean
  brightness (so tests can tell which output belongs to which image of a batch). Needs the
  ``onnx`` package (train extra / dev); imported lazily.
- :class:`ColourBlobDetector` "sees" axis-aligned rectangles painted in class colours: each
  connected blob of a class colour inside the image it is given becomes one box. Tiles then
  report exactly the ground truth clipped to themselves, which tests seam merging exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from detection.inference._types import Detection, RgbImage


@dataclass(frozen=True)
class FixedOutputModel:
    """What the fake ONNX model emits: anchors in letterboxed-input pixels and class scores.

    ``boxes_cxcywh_px`` is ``(N, 4)``; ``scores`` is ``(N, nc)``, multiplied at run time by the
    image's mean brightness in ``[0, 1]``.
    """

    boxes_cxcywh_px: NDArray[np.float32]
    scores: NDArray[np.float32]
    input_hw_px: tuple[int, int] = (64, 64)
    dynamic_batch: bool = True
    metadata: Mapping[str, str] | None = None
    symbolic_channels: bool = False  # like ultralytics dynamic exports: output [B, ?, N]


def write_fixed_output_onnx(path: Path, spec: FixedOutputModel) -> Path:
    """Write the fake model described by ``spec`` to ``path`` and return the path."""
    import onnx  # noqa: PLC0415 - test-only dependency
    from onnx import TensorProto, helper, numpy_helper  # noqa: PLC0415

    n, nc = spec.scores.shape
    boxes = spec.boxes_cxcywh_px.T.reshape(1, 4, n).astype(np.float32)
    scores = spec.scores.T.reshape(1, nc, n).astype(np.float32)
    h, w = spec.input_hw_px
    batch: int | str = "batch" if spec.dynamic_batch else 1
    nodes = [
        helper.make_node("ReduceMean", ["images", "axes"], ["brightness"], keepdims=1),
        helper.make_node("Reshape", ["brightness", "b_shape"], ["b3"]),
        helper.make_node("Mul", ["b3", "scores"], ["scaled"]),
        helper.make_node("Shape", ["images"], ["in_shape"]),
        helper.make_node("Slice", ["in_shape", "zero", "one"], ["bdim"]),
        helper.make_node("Concat", ["bdim", "box_dims"], ["box_shape"], axis=0),
        helper.make_node("Expand", ["boxes", "box_shape"], ["boxes_b"]),
        helper.make_node("Concat", ["boxes_b", "scaled"], ["output0"], axis=1),
    ]
    inits = [
        numpy_helper.from_array(np.array([1, 2, 3], np.int64), "axes"),
        numpy_helper.from_array(np.array([-1, 1, 1], np.int64), "b_shape"),
        numpy_helper.from_array(scores, "scores"),
        numpy_helper.from_array(boxes, "boxes"),
        numpy_helper.from_array(np.array([0], np.int64), "zero"),
        numpy_helper.from_array(np.array([1], np.int64), "one"),
        numpy_helper.from_array(np.array([4, n], np.int64), "box_dims"),
    ]
    graph = helper.make_graph(
        nodes,
        "fixed_output_yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [batch, 3, h, w])],
        [
            helper.make_tensor_value_info(
                "output0",
                TensorProto.FLOAT,
                [batch, "channels" if spec.symbolic_channels else 4 + nc, n],
            )
        ],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    for key, value in (spec.metadata or {}).items():
        prop = model.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


class ColourBlobDetector:
    """A fake detector: one box per connected blob of each class colour, score 1.

    ``colours[k]`` is the RGB colour painted for class ``k``; blobs of one class must not
    touch, or they are reported as one object (as a real model would, too). ``tolerance``
    (per channel) lets lossy JPEG pixels still match.
    """

    def __init__(
        self,
        colours: Sequence[tuple[int, int, int]],
        class_names: Sequence[str],
        input_hw_px: tuple[int, int] = (64, 64),
        tolerance: int = 0,
    ) -> None:
        self._colours = [np.array(c, dtype=np.int16) for c in colours]
        self._tolerance = tolerance
        self._names = tuple(class_names)
        self._input_hw = input_hw_px
        self.images_seen = 0

    @property
    def class_names(self) -> tuple[str, ...]:
        """Class names in colour order."""
        return self._names

    @property
    def input_size_px(self) -> tuple[int, int]:
        """The tile size this fake pretends to run at."""
        return self._input_hw

    def detect(self, images: Sequence[RgbImage]) -> list[list[Detection]]:
        """Blobs per image, as exact pixel boxes."""
        from scipy import ndimage  # noqa: PLC0415

        results: list[list[Detection]] = []
        for image in images:
            self.images_seen += 1
            found: list[Detection] = []
            for k, colour in enumerate(self._colours):
                close = np.abs(image.astype(np.int16) - colour) <= self._tolerance
                labels, _ = ndimage.label(np.all(close, axis=2))
                for sl in ndimage.find_objects(labels):
                    if sl is None:
                        continue
                    ys, xs = sl
                    box = (float(xs.start), float(ys.start), float(xs.stop), float(ys.stop))
                    found.append(Detection(k, self._names[k], 1.0, box))
            results.append(found)
        return results
