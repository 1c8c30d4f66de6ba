"""Post-training static INT8 quantization of an ultralytics-layout ONNX detector.

Why: on CPU the network is nearly all of the time of sliced detection (tiling, letterbox, NMS
and the seam merge are a few per cent), so the one large lever is a cheaper network. ONNX
Runtime runs QDQ-quantized convolutions with 8-bit integer kernels (VNNI where the CPU has it).

How: QDQ format, weights ``int8`` per output channel, activations ``uint8`` with ranges
calibrated on rendered synthetic frames of the **training** seeds only (never the validation or
held-out test seeds, whose worlds must stay unseen). The box decode at the end of the
ultralytics head (DFL softmax, anchor arithmetic, class sigmoid and the final concat) stays in
float: one output tensor carries box coordinates in pixels (0..640) next to scores (0..1), and
one shared 8-bit scale for both would wipe out the scores. The result keeps the input, output
and metadata (class names, input size) of the float model, so :func:`load_detector` and
``nestpatrol detect`` use it unchanged.

Needs the ``onnx`` package (``dev`` or ``train`` extra) to build the model; running the result
needs ONNX Runtime only.
"""

from __future__ import annotations

import importlib.util
import logging
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from detection.errors import DatasetError, ModelError, TrainingError
from detection.inference._letterbox import letterbox

if TYPE_CHECKING:
    import onnx

METADATA_KEY = "nestpatrol_quantization"
"""``metadata_props`` key of the quantized model: how it was made (method, seeds, nodes)."""
MIN_OPSET = 13


class CalibrationMethod(Enum):
    """How activation ranges are chosen from the calibration frames."""

    MINMAX = "minmax"  # the observed range: no clipping, coarser steps
    PERCENTILE = "percentile"  # clip the 0.001 % tails: finer steps, rare outliers saturate
    ENTROPY = "entropy"  # KL-divergence threshold per tensor (slow, memory-hungry)


@dataclass(frozen=True)
class QuantizeConfig:
    """Calibration and quantization options.

    ``first_seed`` .. ``first_seed + calib_images - 1`` are synthetic *training* seeds,
    rendered like ``nestpatrol model synth`` renders the train split (320 px frames, GSD
    3.5-7 cm/px, 20 % night) and letterboxed as the detector letterboxes its tiles.
    ``float_head`` keeps the box decode after the last learned convolutions in float.
    """

    calib_images: int = 128
    first_seed: int = 0
    method: CalibrationMethod = CalibrationMethod.MINMAX
    per_channel: bool = True
    float_head: bool = True
    frame_px: int = 320

    def __post_init__(self) -> None:
        from detection.synthetic.dataset import DEFAULT_SPLITS, Split  # noqa: PLC0415

        if self.calib_images < 1:
            raise DatasetError(f"calib_images={self.calib_images} must be >= 1")
        if self.first_seed < 0:
            raise DatasetError(f"first_seed={self.first_seed} must be >= 0")
        last = self.first_seed + self.calib_images - 1
        for split in (Split.VAL, Split.TEST):
            held = DEFAULT_SPLITS[split]
            if self.first_seed <= held.seeds()[-1] and last >= held.first_seed:
                raise DatasetError(
                    f"calibration seeds {self.first_seed}..{last} overlap the {split.value} "
                    f"seeds {held.first_seed}..{held.seeds()[-1]}; calibrate on training "
                    "seeds (below 1,000,000) so held-out worlds stay unseen"
                )


@dataclass(frozen=True)
class QuantizeResult:
    """What was written: the model, the calibration seeds and the nodes kept in float."""

    path: Path
    calibration_seeds: range
    float_nodes: tuple[str, ...]
    size_bytes: int


def calibration_frames(config: QuantizeConfig) -> Iterator[NDArray[np.uint8]]:
    """Rendered RGB frames of the calibration seeds (training split), in seed order."""
    from detection.synthetic.dataset import DatasetConfig, Split, make_frame  # noqa: PLC0415

    dataset = DatasetConfig(image_px=config.frame_px)
    for seed in range(config.first_seed, config.first_seed + config.calib_images):
        yield make_frame(seed, Split.TRAIN, dataset).scene.image


class _FrameReader:
    """ONNX Runtime's ``CalibrationDataReader`` protocol (``get_next``) over rendered frames.

    Frames are prepared exactly as :class:`~detection.inference.OnnxDetector` prepares tiles
    (letterbox, RGB, 0..1), so the calibrated ranges are the ranges inference meets.
    """

    def __init__(
        self,
        frames: Iterator[NDArray[np.uint8]],
        input_name: str,
        input_hw_px: tuple[int, int],
        progress: Callable[[int], None] | None,
    ) -> None:
        self._frames = frames
        self._input_name = input_name
        self._input_hw_px = input_hw_px
        self._progress = progress
        self.done = 0

    def get_next(self) -> dict[str, NDArray[np.float32]] | None:
        frame = next(self._frames, None)
        if frame is None:
            return None
        canvas, _ = letterbox(frame, self._input_hw_px)
        blob = canvas.transpose(2, 0, 1)[None].astype(np.float32) / np.float32(255.0)
        self.done += 1
        if self._progress is not None:
            self._progress(self.done)
        return {self._input_name: np.ascontiguousarray(blob)}


def float_tail_nodes(model: onnx.ModelProto) -> list[str]:
    """Nodes between the last learned convolutions and the outputs: the decode to keep in float.

    Walks back from the graph outputs and stops at every ``Conv`` with a bias (a learned layer
    with batch norm folded in); the DFL's fixed 1×1 ``Conv`` has no bias and is walked through.
    Works on unnamed and renamed graphs alike.
    """
    producer = {out: node for node in model.graph.node for out in node.output}
    tail: list[str] = []
    seen: set[int] = set()
    stack = [producer[o.name] for o in model.graph.output if o.name in producer]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.op_type == "Conv" and len(node.input) > 2 and node.input[2]:
            continue
        if not node.name:
            raise ModelError(
                "the model has unnamed nodes, so its head cannot be kept in float; "
                "re-export it with ultralytics (nestpatrol model export) or pass float_head=False"
            )
        tail.append(node.name)
        stack.extend(producer[i] for i in node.input if i in producer)
    return tail


def _input_spec(model: onnx.ModelProto) -> tuple[str, tuple[int, int]]:
    """Name and static ``(height, width)`` of the single image input."""
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    dims = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim] if inputs else []
    if len(inputs) != 1 or len(dims) != 4 or min(dims[2:]) < 1:
        raise ModelError(
            f"expected one image input [B, 3, H, W] with a static H and W, got "
            f"{[i.name for i in inputs]} {dims}; re-export without --dynamic to quantize"
        )
    return inputs[0].name, (dims[2], dims[3])


def _at_least_opset_13(model: onnx.ModelProto) -> onnx.ModelProto:
    """Per-channel ``DequantizeLinear`` (its ``axis``) needs opset 13; ultralytics exports 12."""
    from onnx import version_converter  # noqa: PLC0415 - optional dependency

    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if opset >= MIN_OPSET:
        return model
    try:
        upgraded = version_converter.convert_version(model, MIN_OPSET)
    except Exception as e:  # the converter raises bare RuntimeErrors and ValueErrors
        raise ModelError(
            f"cannot convert the model from opset {opset} to {MIN_OPSET} for per-channel "
            f"quantization ({e}); re-export it with --opset {MIN_OPSET}"
        ) from e
    return upgraded


def _require_onnx() -> None:
    """Fail with the fix when the optional ``onnx`` package is missing."""
    if importlib.util.find_spec("onnx") is None:
        raise TrainingError(
            "quantizing needs the onnx package; install it with scripts/setup.sh --dev "
            "(or pip install -e '.[train]')"
        )


def quantize_detector(
    model_path: Path,
    out_path: Path,
    config: QuantizeConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> QuantizeResult:
    """Write a static INT8 (QDQ) copy of ``model_path`` to ``out_path`` and check it loads.

    ``progress`` is called with the number of calibration frames run so far.
    """
    config = config or QuantizeConfig()
    _require_onnx()
    import onnx  # noqa: PLC0415 - optional, only needed to build the model

    if out_path.resolve() == model_path.resolve():
        raise ModelError(f"{out_path}: would overwrite the float model; pick another --out")
    _check_loads(model_path)  # a readable detector of the expected layout, or a ModelError
    model = _at_least_opset_13(onnx.load(str(model_path)))
    input_name, input_hw = _input_spec(model)
    excluded = float_tail_nodes(model) if config.float_head else []
    reader = _FrameReader(calibration_frames(config), input_name, input_hw, progress)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nestpatrol-quant-") as scratch:
        source, staged = Path(scratch) / "float.onnx", Path(scratch) / "int8.onnx"
        onnx.save(model, str(source))  # by path: quantize_static rewrites a ModelProto it is given
        _quantize_static(source, staged, reader, excluded, config)
        if reader.done == 0:
            raise ModelError("no calibration frame was run; check calib_images")
        quantized = onnx.load(str(staged))
    seeds = range(config.first_seed, config.first_seed + reader.done)
    _copy_metadata(model, quantized, _describe(config, seeds, excluded))
    onnx.save(quantized, str(out_path))
    _check_loads(out_path)
    return QuantizeResult(out_path, seeds, tuple(excluded), out_path.stat().st_size)


class _DropPreprocessHint(logging.Filter):
    """ORT logs a hint to run its pre-processing first on the root logger; we chose not to
    (it made the model no faster here), so the hint would only confuse CLI users."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-processing" not in record.getMessage()


def _quantize_static(
    source: Path, staged: Path, reader: _FrameReader, excluded: list[str], config: QuantizeConfig
) -> None:
    from onnxruntime import quantization as q  # noqa: PLC0415 - heavy, needs onnx

    methods = {
        CalibrationMethod.MINMAX: q.CalibrationMethod.MinMax,
        CalibrationMethod.PERCENTILE: q.CalibrationMethod.Percentile,
        CalibrationMethod.ENTROPY: q.CalibrationMethod.Entropy,
    }
    hint = _DropPreprocessHint()
    root = logging.getLogger()
    root.addFilter(hint)
    try:
        q.quantize_static(
            str(source),
            str(staged),
            calibration_data_reader=reader,
            quant_format=q.QuantFormat.QDQ,
            per_channel=config.per_channel,
            activation_type=q.QuantType.QUInt8,  # u8 activations x s8 weights: x86's fast path
            weight_type=q.QuantType.QInt8,
            nodes_to_exclude=excluded,
            calibrate_method=methods[config.method],
        )
    finally:
        root.removeFilter(hint)


def _describe(config: QuantizeConfig, seeds: range, excluded: Sequence[str]) -> str:
    return (
        f"static int8 QDQ (weights int8 per-{'channel' if config.per_channel else 'tensor'}, "
        f"activations uint8), {config.method.value} calibration on {len(seeds)} synthetic "
        f"training frames (seeds {seeds.start}..{seeds.stop - 1}, {config.frame_px} px), "
        f"{len(excluded)} head nodes kept in float"
    )


def _copy_metadata(source: onnx.ModelProto, target: onnx.ModelProto, note: str) -> None:
    """The float model's metadata (class names, imgsz, ...) plus how this copy was made."""
    del target.metadata_props[:]
    for prop in source.metadata_props:
        if prop.key != METADATA_KEY:
            target.metadata_props.add(key=prop.key, value=prop.value)
    target.metadata_props.add(key=METADATA_KEY, value=note)


def _check_loads(path: Path) -> None:
    """Load with the inference backend and run one grey image: a detector it can use, or a
    :class:`ModelError` that says what is wrong."""
    from detection.inference._onnx_backend import OnnxDetector  # noqa: PLC0415

    detector = OnnxDetector(path)
    h, w = detector.input_size_px
    detector.detect([np.full((h, w, 3), 114, np.uint8)])
