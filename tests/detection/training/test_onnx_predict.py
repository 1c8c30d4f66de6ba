"""Letterboxing, output decoding and NMS of the evaluation predictor (no model needed)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detection.errors import ModelError
from detection.training.onnx_predict import LETTERBOX_GREY, decode, letterbox, nms


@settings(max_examples=25, deadline=None)
@given(h=st.integers(8, 300), w=st.integers(8, 300), size=st.sampled_from([64, 160, 320]))
def test_letterbox_keeps_aspect_and_maps_points_back(h: int, w: int, size: int) -> None:
    image = np.zeros((h, w, 3), dtype=np.uint8)
    tensor, scale, left, top = letterbox(image, size)
    assert tensor.shape == (1, 3, size, size)
    assert tensor.dtype == np.float32
    assert scale == pytest.approx(min(size / h, size / w))
    # the image corners land inside the square, the padding is grey
    assert 0 <= left <= size / 2
    assert 0 <= top <= size / 2
    if left >= 1:
        assert tensor[0, 0, size // 2, 0] == pytest.approx(LETTERBOX_GREY / 255)


def _raw_output(boxes_cxcywh: list[list[float]], scores: list[list[float]]) -> np.ndarray:
    """Build a [1, 4 + nc, N] tensor the way the ultralytics head lays it out."""
    rows = [b + s for b, s in zip(boxes_cxcywh, scores, strict=True)]
    return np.asarray(rows, dtype=np.float32).T[None]


def test_decode_returns_xyxy_best_class_and_drops_low_scores() -> None:
    out = _raw_output(
        [[50, 50, 20, 10], [200, 100, 40, 40]],
        [[0.1, 0.9, 0.0, 0.0], [0.01, 0.0, 0.02, 0.0]],
    )
    det = decode(out, conf_threshold=0.05, iou_threshold=0.5)
    assert len(det) == 1
    np.testing.assert_allclose(det.boxes_xyxy[0], [40, 45, 60, 55])
    assert det.classes.tolist() == [1]
    assert det.scores[0] == pytest.approx(0.9)


def test_nms_is_per_class() -> None:
    out = _raw_output(
        [[50, 50, 20, 20], [51, 50, 20, 20], [50, 50, 20, 20]],
        [[0.9, 0, 0, 0], [0.8, 0, 0, 0], [0, 0, 0.7, 0]],
    )
    det = decode(out, conf_threshold=0.1, iou_threshold=0.5)
    assert sorted(det.classes.tolist()) == [0, 2]


def test_nms_keeps_disjoint_boxes() -> None:
    rng = np.random.default_rng(0)
    xy = np.arange(10, dtype=np.float32)[:, None] * 100
    boxes = np.concatenate([xy, xy, xy + 10, xy + 10], axis=1)
    scores = rng.random(10).astype(np.float32)
    assert sorted(nms(boxes, scores, 0.5).tolist()) == list(range(10))


def test_decode_rejects_a_wrong_layout() -> None:
    with pytest.raises(ModelError, match="4 \\+ nc"):
        decode(np.zeros((1, 3, 10), dtype=np.float32), 0.1, 0.5)
