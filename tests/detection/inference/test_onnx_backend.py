"""ONNX Runtime backend against tiny ONNX graphs that emit known ultralytics-layout outputs."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from detection.classes import CLASS_NAMES
from detection.errors import ImageInputError, ModelError
from detection.inference import DetectorConfig, OnnxDetector, load_detector
from detection.inference.testing import FixedOutputModel, write_fixed_output_onnx

pytest.importorskip("onnx", reason="building test models needs the onnx package (dev extra)")

INPUT = 64


def _model(
    tmp_path: Path,
    boxes: Sequence[Sequence[float]],
    scores: Sequence[Sequence[float]],
    **kw: object,
) -> Path:
    spec = FixedOutputModel(
        boxes_cxcywh_px=np.array(boxes, np.float32),
        scores=np.array(scores, np.float32),
        input_hw_px=(INPUT, INPUT),
        **kw,  # type: ignore[arg-type]
    )
    return write_fixed_output_onnx(tmp_path / "fake.onnx", spec)


def _white(h: int, w: int) -> np.ndarray:
    return np.full((h, w, 3), 255, np.uint8)


def test_boxes_are_mapped_back_through_the_letterbox(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    cxcywh = rng.uniform([20, 28, 4, 2], [44, 36, 12, 6], size=(5, 4))
    scores = np.zeros((5, 4))
    scores[np.arange(5), np.arange(5) % 4] = 0.9
    model = _model(tmp_path, cxcywh.tolist(), scores.tolist())
    det = OnnxDetector(model, DetectorConfig(conf_threshold=0.5, iou_threshold=0.99))
    h, w = 50, 160  # wide image: scale = 64/160, padded top and bottom
    (found,) = det.detect([_white(h, w)])
    scale = INPUT / w
    pad_y = round((INPUT - round(h * scale)) / 2 - 0.1)
    expected = sorted(
        (
            (cx - bw / 2) / scale,
            (cy - bh / 2 - pad_y) / scale,
            (cx + bw / 2) / scale,
            (cy + bh / 2 - pad_y) / scale,
        )
        for cx, cy, bw, bh in cxcywh
    )
    got = sorted(d.box_xyxy_px for d in found)
    np.testing.assert_allclose(
        np.array(got), np.clip(np.array(expected), 0, [w, h, w, h]), atol=1e-3
    )
    assert {d.class_name for d in found} == set(CLASS_NAMES)


def test_nms_is_per_class_and_conf_threshold_applies(tmp_path: Path) -> None:
    boxes = [[32, 32, 20, 20], [33, 32, 20, 20], [32, 33, 20, 20], [10, 10, 4, 4]]
    scores = [[0.9, 0, 0, 0], [0.8, 0, 0, 0], [0, 0.7, 0, 0], [0, 0, 0.1, 0]]
    model = _model(tmp_path, boxes, scores)
    det = OnnxDetector(model, DetectorConfig(conf_threshold=0.25, iou_threshold=0.5))
    (found,) = det.detect([_white(INPUT, INPUT)])
    by_class = sorted((d.class_index, round(d.score, 3)) for d in found)
    # box 1 is suppressed by box 0 (same class); box 2 survives (other class); box 3 < conf
    assert by_class == [(0, 0.9), (1, 0.7)]


def test_batches_keep_image_order_for_dynamic_and_static_batch(tmp_path: Path) -> None:
    for dynamic in (True, False):
        model = _model(tmp_path, [[32, 32, 10, 10]], [[1.0, 0, 0, 0]], dynamic_batch=dynamic)
        det = OnnxDetector(model, DetectorConfig(conf_threshold=0.01, batch_size=2))
        levels = [200, 60, 255, 120, 30]
        images = [np.full((40, 40, 3), v, np.uint8) for v in levels]
        results = det.detect(images)
        assert len(results) == len(levels)
        # a letterboxed 40x40 image fills the 64x64 input, so mean brightness = level / 255
        got = [r[0].score for r in results]
        np.testing.assert_allclose(got, [v / 255 for v in levels], rtol=1e-4)


def test_metadata_names_and_imgsz_are_read(tmp_path: Path) -> None:
    meta = {"names": "{0: 'shed', 1: 'pile'}", "imgsz": f"[{INPUT}, {INPUT}]", "stride": "32"}
    model = _model(tmp_path, [[32, 32, 8, 8]], [[0.0, 0.9]], metadata=meta)
    det = load_detector(model)
    assert det.class_names == ("shed", "pile")
    assert det.input_size_px == (INPUT, INPUT)
    (found,) = det.detect([_white(INPUT, INPUT)])
    assert [d.class_name for d in found] == ["pile"]


def test_mismatched_metadata_names_are_refused(tmp_path: Path) -> None:
    model = _model(tmp_path, [[32, 32, 8, 8]], [[0.0, 0.9]], metadata={"names": "{0: 'a'}"})
    with pytest.raises(ModelError, match="class names"):
        OnnxDetector(model)


def test_bad_model_files_raise_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        load_detector(tmp_path / "missing.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(np.random.default_rng(0).bytes(256))
    with pytest.raises(ModelError, match="cannot load"):
        load_detector(junk)
    with pytest.raises(ModelError, match="unknown model format"):
        load_detector(tmp_path / "weights.h5")


def test_wrong_image_arrays_are_rejected(tmp_path: Path) -> None:
    det = OnnxDetector(_model(tmp_path, [[32, 32, 8, 8]], [[0.9, 0, 0, 0]]))
    with pytest.raises(ImageInputError, match="RGB uint8"):
        det.detect([np.zeros((10, 10), np.uint8)])


def test_inference_makes_no_network_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model(tmp_path, [[32, 32, 8, 8]], [[0.9, 0, 0, 0]])

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("inference tried to open a network socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    det = load_detector(model)
    results = det.detect([_white(30, 90), _white(64, 64)])
    assert [len(r) for r in results] == [1, 1]


def test_symbolic_output_channels_use_metadata_and_are_checked_at_run_time(
    tmp_path: Path,
) -> None:
    """ultralytics ``dynamic=True`` exports leave the channel axis symbolic."""
    good = _model(
        tmp_path, [[32, 32, 8, 8]], [[0.0, 0.9]], symbolic_channels=True,
        metadata={"names": "{0: 'shed', 1: 'pile'}"},
    )  # fmt: skip
    det = OnnxDetector(good)
    assert det.class_names == ("shed", "pile")
    (found,) = det.detect([_white(INPUT, INPUT)])
    assert [d.class_name for d in found] == ["pile"]
    wrong = _model(
        tmp_path, [[32, 32, 8, 8]], [[0.0, 0.9]], symbolic_channels=True,
        metadata={"names": "['a', 'b', 'c']"},
    )  # fmt: skip
    with pytest.raises(ModelError, match="2 class scores but 3 class names"):
        OnnxDetector(wrong).detect([_white(INPUT, INPUT)])


def test_halving_letterbox_is_the_2x2_mean_and_other_scales_the_pil_filter() -> None:
    from PIL import Image

    from detection.inference._letterbox import PAD_VALUE, letterbox

    rng = np.random.default_rng(3)
    tile = rng.integers(0, 256, (128, 96, 3), dtype=np.uint8)  # halves to 64x48, padded 8+8
    canvas, transform = letterbox(tile, (INPUT, INPUT))
    sums = tile.astype(np.int64).reshape(64, 2, 48, 2, 3).sum(axis=(1, 3))
    np.testing.assert_array_equal(canvas[:, 8:56], (sums + 2) // 4)  # cv2 INTER_LINEAR at 1/2
    assert (canvas[:, :8] == PAD_VALUE).all()
    assert (canvas[:, 56:] == PAD_VALUE).all()
    assert (transform.scale, transform.pad_x_px, transform.pad_y_px) == (0.5, 8.0, 0.0)
    other = rng.integers(0, 256, (80, 80, 3), dtype=np.uint8)  # 0.8: the antialiased filter
    expected = np.asarray(Image.fromarray(other).resize((64, 64), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(letterbox(other, (INPUT, INPUT))[0], expected)
    exact = rng.integers(0, 256, (INPUT, INPUT, 3), dtype=np.uint8)
    np.testing.assert_array_equal(letterbox(exact, (INPUT, INPUT))[0], exact)


def test_static_batch_is_padded_and_batch_blob_matches_one_image_runs(tmp_path: Path) -> None:
    images = [np.full((40, 40, 3), v, np.uint8) for v in (17, 250, 99)]
    for dynamic in (True, False):
        model = _model(tmp_path, [[32, 32, 10, 10]], [[1.0, 0, 0, 0]], dynamic_batch=dynamic)
        det = OnnxDetector(model, DetectorConfig(conf_threshold=0.01, batch_size=8))
        together = det.detect(images)
        alone = [det.detect([im])[0] for im in images]
        assert together == alone
