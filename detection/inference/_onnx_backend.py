"""ONNX Runtime backend for ultralytics YOLO detection exports — the default, torch-free path.

An ultralytics detection export has one input ``images`` ``[B, 3, H, W]`` (RGB, 0..1) and one
output ``[B, 4 + nc, N]``: for each of N anchors, ``cx, cy, w, h`` in letterboxed input pixels
followed by ``nc`` class scores (already sigmoid-ed, no objectness). Its ``metadata_props`` hold
``names`` (a Python dict literal) and ``imgsz`` (a list literal), which we read when present.
"""

from __future__ import annotations

import ast
import os
import queue
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from detection.classes import CLASS_NAMES
from detection.errors import ModelError
from detection.inference._boxes import batched_nms
from detection.inference._letterbox import LetterboxTransform, letterbox
from detection.inference._types import Detection, DetectorConfig, RgbImage, check_rgb


def parse_class_names(metadata: Mapping[str, str], num_classes: int | None) -> tuple[str, ...]:
    """Class names from ultralytics metadata, else our own classes when the count fits.

    ``num_classes`` is None when the export's output shape is symbolic (dynamic exports);
    the count is then checked against the first output instead.
    """
    raw = metadata.get("names")
    if raw:
        try:
            parsed = ast.literal_eval(raw)
        except (ValueError, SyntaxError) as e:
            raise ModelError(
                f"model metadata 'names' is not a dict or list literal: {raw[:80]!r}; "
                "re-export the model with ultralytics or fix its metadata"
            ) from e
        if isinstance(parsed, dict):
            names = tuple(str(parsed[k]) for k in sorted(parsed))
        elif isinstance(parsed, list | tuple):
            names = tuple(str(n) for n in parsed)
        else:
            raise ModelError(f"model metadata 'names' has unexpected type {type(parsed).__name__}")
        check_class_count(names, num_classes)
        return names
    if num_classes is None or num_classes == len(CLASS_NAMES):
        return CLASS_NAMES
    return tuple(f"class_{i}" for i in range(num_classes))


def check_class_count(names: Sequence[str], num_classes: int | None) -> None:
    """Refuse class names that do not match the model's score channels."""
    if num_classes is not None and len(names) != num_classes:
        raise ModelError(
            f"the model has {num_classes} class scores but {len(names)} class names "
            f"({', '.join(names[:6])}...); the metadata belongs to another model"
        )


def parse_imgsz(metadata: Mapping[str, str]) -> tuple[int, int] | None:
    """``(height, width)`` from ultralytics ``imgsz`` metadata (``"[640, 640]"`` or ``"640"``)."""
    raw = metadata.get("imgsz")
    if not raw:
        return None
    try:
        parsed = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return None
    if isinstance(parsed, int):
        return parsed, parsed
    if isinstance(parsed, list | tuple) and len(parsed) == 2:
        return int(parsed[0]), int(parsed[1])
    return None


def decode_ultralytics(
    prediction: NDArray[np.floating],
    transform: LetterboxTransform,
    class_names: Sequence[str],
    config: DetectorConfig,
) -> list[Detection]:
    """One image's ``[4 + nc, N]`` output → thresholded, per-class-NMS'd detections."""
    scores_all = prediction[4:, :]
    class_ids = np.argmax(scores_all, axis=0)
    scores = scores_all[class_ids, np.arange(scores_all.shape[1])]
    keep = scores >= config.conf_threshold
    if not np.any(keep):
        return []
    cxcywh = prediction[:4, keep].T.astype(np.float64)
    scores, class_ids = scores[keep].astype(np.float64), class_ids[keep]
    boxes = np.empty_like(cxcywh)
    boxes[:, :2] = cxcywh[:, :2] - cxcywh[:, 2:] / 2
    boxes[:, 2:] = cxcywh[:, :2] + cxcywh[:, 2:] / 2
    kept = batched_nms(boxes, scores, class_ids, config.iou_threshold)[: config.max_detections]
    image_boxes = transform.to_image(boxes[kept])
    return [
        Detection(
            class_index=int(c),
            class_name=class_names[int(c)],
            score=float(s),
            box_xyxy_px=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
        )
        for b, s, c in zip(image_boxes, scores[kept], class_ids[kept], strict=True)
        if b[2] > b[0] and b[3] > b[1]
    ]


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def threads_per_session(num_threads: int | None, sessions: int) -> int | None:
    """Intra-op threads of each of ``sessions`` sessions sharing ``num_threads`` (None: ORT's).

    One session keeps ``num_threads`` as given (None lets ONNX Runtime pick); several split
    the budget (``None``: the usable cores) evenly, at least one thread each.
    """
    if sessions == 1:
        return num_threads
    return max(1, (num_threads or usable_cores()) // sessions)


class OnnxDetector:
    """Runs an ultralytics-layout ONNX detection model on the CPU with ONNX Runtime.

    Batches up to ``config.batch_size`` images when the model has a dynamic batch axis and
    falls back to one image per run for static-batch exports (the ultralytics default).

    With ``config.sessions`` > 1 the model is loaded into that many independent sessions (they
    share nothing: each holds its own copy of the weights) and the runs of one ``detect`` call
    go to a thread pool of as many workers, one session per run; ONNX Runtime releases the GIL
    while it computes, so the runs overlap. A dynamic-batch model's images are then split into
    ``ceil(n / sessions)``-image runs (at most ``batch_size``), so every session gets work.
    """

    def __init__(self, model_path: Path | str, config: DetectorConfig | None = None) -> None:
        import onnxruntime as ort  # noqa: PLC0415 - heavy, deferred until a model is loaded
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors  # noqa: PLC0415

        self.model_path = Path(model_path)
        self.config = config or DetectorConfig()
        if not self.model_path.is_file():
            raise ModelError(f"{self.model_path}: model file not found; pass --model PATH")
        options = ort.SessionOptions()
        intra_op_threads = threads_per_session(self.config.num_threads, self.config.sessions)
        if intra_op_threads is not None:
            options.intra_op_num_threads = intra_op_threads
        options.log_severity_level = 3
        if not self.config.spin_wait:
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        try:
            self._sessions: list[Any] = [
                ort.InferenceSession(
                    str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
                )
                for _ in range(self.config.sessions)
            ]
        except (  # ORT's own exceptions derive from Exception directly
            ort_errors.Fail,
            ort_errors.InvalidGraph,
            ort_errors.InvalidProtobuf,
            ort_errors.InvalidArgument,
            ort_errors.NoSuchFile,
            ort_errors.NotImplemented,
            ort_errors.RuntimeException,
        ) as e:
            raise ModelError(
                f"{self.model_path}: ONNX Runtime cannot load the model ({e}); "
                "check that it is an ONNX export of a detection model"
            ) from e
        self._session = self._sessions[0]
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()  # sessions free to run
        for session in self._sessions:
            self._idle.put(session)
        self._pool = (
            ThreadPoolExecutor(self.config.sessions, thread_name_prefix="onnx-session")
            if self.config.sessions > 1
            else None
        )
        self._input_name, self._fixed_batch, fixed_hw = self._inspect_input()
        metadata: dict[str, str] = dict(self._session.get_modelmeta().custom_metadata_map)
        self._class_names = parse_class_names(metadata, self._inspect_output())
        size = self.config.input_size_px
        self._input_hw: tuple[int, int] = fixed_hw or parse_imgsz(metadata) or (size, size)

    def _inspect_input(self) -> tuple[str, int | None, tuple[int, int] | None]:
        inputs = self._session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ModelError(
                f"{self.model_path}: expected one image input [B, 3, H, W], got "
                f"{[(i.name, i.shape) for i in inputs]}"
            )
        shape: list[Any] = list(inputs[0].shape)
        batch = shape[0] if isinstance(shape[0], int) else None
        hw = (shape[2], shape[3]) if all(isinstance(d, int) for d in shape[2:]) else None
        return inputs[0].name, batch, hw

    def _inspect_output(self) -> int | None:
        outputs = self._session.get_outputs()
        shape: list[Any] = list(outputs[0].shape) if outputs else []
        if len(outputs) != 1 or len(shape) != 3 or (isinstance(shape[1], int) and shape[1] < 5):
            raise ModelError(
                f"{self.model_path}: expected one ultralytics detection output [B, 4 + classes, "
                f"anchors], got {[o.shape for o in outputs]}; segmentation/pose/end-to-end "
                "exports are not supported"
            )
        return int(shape[1]) - 4 if isinstance(shape[1], int) else None

    @property
    def class_names(self) -> tuple[str, ...]:
        """Class names in model output order (from metadata when the export carries them)."""
        return self._class_names

    @property
    def input_size_px(self) -> tuple[int, int]:
        """``(height, width)`` of the network input."""
        return self._input_hw

    def detect(self, images: Sequence[RgbImage]) -> list[list[Detection]]:
        """Detections per image; images of any size are letterboxed to the input size."""
        step = self._fixed_batch or self.config.batch_size
        if self._pool is not None and self._fixed_batch is None:
            step = min(step, -(-len(images) // self.config.sessions))  # every session gets work
        starts = range(0, len(images), max(1, step))

        def run(start: int) -> list[list[Detection]]:
            return self._run_batch(images[start : start + step], first=start)

        if self._pool is None or len(starts) < 2:
            batches = [run(start) for start in starts]
        else:  # map keeps the input order whatever order the runs finish in
            batches = list(self._pool.map(run, starts))
        return [found for batch in batches for found in batch]

    def _run_batch(self, images: Sequence[RgbImage], first: int = 0) -> list[list[Detection]]:
        prepared = [
            letterbox(check_rgb(im, where=f"image {first + i}"), self.input_size_px)
            for i, im in enumerate(images)
        ]
        in_h, in_w = self.input_size_px
        rows = max(len(prepared), self._fixed_batch or 0)  # a static batch is padded with zeros
        blob = np.empty((rows, 3, in_h, in_w), np.float32)
        blob[len(prepared) :] = 0.0
        for i, (canvas, _) in enumerate(prepared):  # HWC uint8 -> CHW float32 [0, 1], one pass
            np.divide(canvas.transpose(2, 0, 1), np.float32(255.0), out=blob[i])
        output = self._infer(blob)
        predictions = np.asarray(output)
        if predictions.ndim != 3:
            raise ModelError(f"{self.model_path}: output has shape {predictions.shape}, not 3-D")
        check_class_count(self._class_names, predictions.shape[1] - 4)
        return [
            decode_ultralytics(predictions[i], transform, self._class_names, self.config)
            for i, (_, transform) in enumerate(prepared)
        ]

    def _infer(self, blob: NDArray[np.float32]) -> Any:
        """The network's first output for ``blob``, on a session no other run is using."""
        if self._pool is None:  # one session: ORT allows concurrent runs, as before
            return self._session.run(None, {self._input_name: blob})[0]
        session = self._idle.get()
        try:
            return session.run(None, {self._input_name: blob})[0]
        finally:
            self._idle.put(session)
