"""Metrics: IoU properties, greedy matching and AP on cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detection.training.metrics import (
    BACKGROUND,
    IOU_THRESHOLDS,
    ClassTally,
    FalseAlarms,
    average_precision,
    iou_matrix,
    match,
    match_thresholds,
)

coord = st.floats(0, 500, allow_nan=False)


@st.composite
def boxes(draw: st.DrawFn, n: int) -> np.ndarray:
    out = []
    for _ in range(n):
        x0, y0 = draw(coord), draw(coord)
        w, h = draw(st.floats(1, 100)), draw(st.floats(1, 100))
        out.append([x0, y0, x0 + w, y0 + h])
    return np.asarray(out, dtype=np.float32)


@settings(max_examples=60, deadline=None)
@given(a=boxes(4), b=boxes(3))
def test_iou_is_symmetric_bounded_and_one_on_itself(a: np.ndarray, b: np.ndarray) -> None:
    m = iou_matrix(a, b)
    np.testing.assert_allclose(m, iou_matrix(b, a).T, atol=1e-6)
    assert (m >= 0).all()
    assert (m <= 1 + 1e-6).all()
    np.testing.assert_allclose(np.diag(iou_matrix(a, a)), 1.0, atol=1e-5)


def test_iou_of_half_overlap() -> None:
    a = np.asarray([[0, 0, 10, 10]], dtype=np.float32)
    b = np.asarray([[5, 0, 15, 10]], dtype=np.float32)
    assert float(iou_matrix(a, b)[0, 0]) == pytest.approx(50 / 150)


def test_each_ground_truth_is_matched_once_best_score_first() -> None:
    gt = np.asarray([[0, 0, 10, 10]], dtype=np.float32)
    preds = np.asarray([[0, 0, 10, 10], [0.5, 0, 10.5, 10]], dtype=np.float32)
    tp = match(preds, np.asarray([0.4, 0.9], dtype=np.float32), gt)
    assert tp.tolist() == [False, True]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 20), seed=st.integers(0, 1000))
def test_ap_is_one_for_perfect_and_zero_for_all_wrong(n: int, seed: int) -> None:
    scores = np.random.default_rng(seed).random(n).astype(np.float32)
    assert average_precision(np.ones(n, dtype=bool), scores, n) == pytest.approx(1.0)
    assert average_precision(np.zeros(n, dtype=bool), scores, n) == 0.0


def test_ap_ranks_hits_above_misses_better() -> None:
    tp = np.asarray([True, False, True, False])
    good = np.asarray([0.9, 0.2, 0.8, 0.1], dtype=np.float32)
    bad = np.asarray([0.1, 0.9, 0.2, 0.8], dtype=np.float32)
    assert average_precision(tp, good, 2) > average_precision(tp, bad, 2)
    # half the objects never found: AP cannot pass the 0.5 recall ceiling
    assert average_precision(np.asarray([True]), np.asarray([0.9], np.float32), 2) < 0.51


def test_tally_precision_recall_at_threshold() -> None:
    tally = ClassTally()
    tally.add(np.asarray([True, False, True]), np.asarray([0.9, 0.8, 0.1], np.float32), 4)
    precision, recall, ap = tally.summary(conf_threshold=0.5)
    assert precision == pytest.approx(0.5)
    assert recall == pytest.approx(0.25)
    assert 0 < ap < 1


def test_false_alarms_are_blamed_on_what_they_overlap() -> None:
    alarms = FalseAlarms()
    pool = np.asarray([0, 0, 10, 10], dtype=np.float32)
    fps = np.asarray([[1, 1, 10, 10], [50, 50, 60, 60]], dtype=np.float32)
    alarms.add("illegal_structure", fps, [], [("pool", pool)])
    assert alarms.counts[("illegal_structure", "pool")] == 1
    assert alarms.counts[("illegal_structure", BACKGROUND)] == 1


def test_ap50_95_rewards_tight_boxes_only() -> None:
    gt = np.asarray([[0, 0, 100, 100]], dtype=np.float32)
    scores = np.asarray([0.9], dtype=np.float32)
    exact, loose = ClassTally(), ClassTally()
    for tally, shift in ((exact, 0.0), (loose, 15.0)):  # IoU 85/115 = 0.74 when shifted
        pred = gt + np.asarray([shift, 0, shift, 0], dtype=np.float32)
        tally.add(match(pred, scores, gt), scores, 1, match_thresholds(pred, scores, gt))
    assert exact.ap50_95() == pytest.approx(1.0)
    assert loose.summary(0.25)[2] == pytest.approx(1.0)  # AP50 does not see the offset
    hits = sum(t <= 85 / 115 for t in IOU_THRESHOLDS)  # thresholds 0.50..0.70
    assert loose.ap50_95() == pytest.approx(hits / len(IOU_THRESHOLDS))


def test_ap50_95_is_nan_without_threshold_matches() -> None:
    tally = ClassTally()
    tally.add(np.asarray([True]), np.asarray([0.9], np.float32), 1)
    assert np.isnan(tally.ap50_95())
