"""Tile-parallel ONNX inference: ``DetectorConfig.sessions`` > 1 gives the sequential output."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from detection.errors import ImageInputError
from detection.inference import DetectorConfig, OnnxDetector
from detection.inference._onnx_backend import threads_per_session, usable_cores
from detection.inference.testing import FixedOutputModel, write_fixed_output_onnx

pytest.importorskip("onnx", reason="building test models needs the onnx package (dev extra)")

INPUT = 64
REAL_MODEL = Path(__file__).resolve().parents[3] / "models" / "nestpatrol-baseline.onnx"


def _model(tmp_path: Path, *, dynamic_batch: bool) -> Path:
    rng = np.random.default_rng(2)
    n = 12
    boxes = rng.uniform([12, 12, 4, 4], [52, 52, 20, 20], size=(n, 4))
    scores = np.zeros((n, 4))
    scores[np.arange(n), np.arange(n) % 4] = rng.uniform(0.3, 1.0, n)
    spec = FixedOutputModel(
        boxes_cxcywh_px=boxes.astype(np.float32),
        scores=scores.astype(np.float32),
        input_hw_px=(INPUT, INPUT),
        dynamic_batch=dynamic_batch,
    )
    name = "dynamic.onnx" if dynamic_batch else "static.onnx"
    return write_fixed_output_onnx(tmp_path / name, spec)


def _images(count: int) -> list[np.ndarray]:
    """Images of different sizes and brightness: each gives its own scores and boxes."""
    rng = np.random.default_rng(7)
    return [
        rng.integers(40 + 15 * (i % 13), 256, (30 + 7 * i, 50 + 3 * i, 3), dtype=np.uint8)
        for i in range(count)
    ]


def test_sessions_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="sessions 0 must be >= 1"):
        DetectorConfig(sessions=0)
    with pytest.raises(ValueError, match="sessions -2"):
        DetectorConfig(sessions=-2)
    assert DetectorConfig().sessions == 1


def test_thread_budget_is_split_between_sessions() -> None:
    assert threads_per_session(None, 1) is None  # one session: ONNX Runtime's own default
    assert threads_per_session(3, 1) == 3
    assert threads_per_session(4, 2) == 2
    assert threads_per_session(3, 2) == 1
    assert threads_per_session(1, 4) == 1  # never below one thread
    assert threads_per_session(None, 2) == max(1, usable_cores() // 2)


@pytest.mark.parametrize("dynamic_batch", [True, False])
@pytest.mark.parametrize("sessions", [2, 3, 8])
@pytest.mark.parametrize("count", [1, 5, 8, 11])
def test_parallel_output_equals_sequential_in_order(
    tmp_path: Path, dynamic_batch: bool, sessions: int, count: int
) -> None:
    model = _model(tmp_path, dynamic_batch=dynamic_batch)
    images = _images(count)
    sequential = OnnxDetector(model, DetectorConfig(conf_threshold=0.2, batch_size=4))
    parallel = OnnxDetector(
        model, DetectorConfig(conf_threshold=0.2, batch_size=4, sessions=sessions, num_threads=2)
    )
    expected = sequential.detect(images)
    assert sum(map(len, expected)) > count  # several boxes per image: order is tested
    for _ in range(3):  # and again, whatever order the runs finish in
        assert parallel.detect(images) == expected
    assert parallel.detect([]) == []


def test_sessions_are_separate_and_split_the_threads(tmp_path: Path) -> None:
    det = OnnxDetector(
        _model(tmp_path, dynamic_batch=False), DetectorConfig(num_threads=4, sessions=2)
    )
    assert len({id(s) for s in det._sessions}) == 2
    assert [s.get_session_options().intra_op_num_threads for s in det._sessions] == [2, 2]
    one = OnnxDetector(_model(tmp_path, dynamic_batch=False), DetectorConfig(num_threads=3))
    assert [s.get_session_options().intra_op_num_threads for s in one._sessions] == [3]


def test_runs_of_one_call_overlap_each_on_its_own_session(tmp_path: Path) -> None:
    """Two static-batch runs meet at a barrier: run one after another, they would time out."""
    det = OnnxDetector(
        _model(tmp_path, dynamic_batch=False), DetectorConfig(num_threads=2, sessions=2)
    )
    barrier = threading.Barrier(2, timeout=10)
    used: list[int] = []
    for session in det._sessions:
        inner = session.run

        def run(*args: Any, _inner: Any = inner, _id: int = id(session)) -> Any:
            used.append(_id)
            barrier.wait()
            return _inner(*args)

        session.run = run
    results = det.detect(_images(2))
    assert len(results) == 2
    assert sorted(used) == sorted(id(s) for s in det._sessions)  # one run on each session


def test_bad_image_is_named_by_its_index_in_the_call(tmp_path: Path) -> None:
    det = OnnxDetector(
        _model(tmp_path, dynamic_batch=False), DetectorConfig(num_threads=2, sessions=2)
    )
    images = _images(6)
    images[4] = np.zeros((10, 10), np.uint8)
    with pytest.raises(ImageInputError, match="image 4"):
        det.detect(images)
    assert len(det.detect(_images(3))) == 3  # every session went back to the pool


@pytest.mark.skipif(not REAL_MODEL.is_file(), reason="the bundled model is not there")
def test_bundled_model_gives_the_same_detections_on_parallel_sessions() -> None:
    """The real network: 2 sessions x 1 thread vs 1 session x 1 and x 2 threads, bit for bit."""
    rng = np.random.default_rng(0)
    tiles = []
    for _ in range(8):  # painted rectangles on grass green: a few boxes per tile at conf 0.05
        tile = np.full((512, 512, 3), (96, 120, 80), np.uint8)
        for _ in range(12):
            x, y = rng.integers(0, 480, 2)
            w, h = rng.integers(16, 120, 2)
            tile[y : y + h, x : x + w] = rng.integers(0, 256, 3)
        tiles.append(tile)
    base = DetectorConfig(conf_threshold=0.05, num_threads=1)
    expected = OnnxDetector(REAL_MODEL, base).detect(tiles)
    assert sum(map(len, expected)) >= 8
    two_threads = OnnxDetector(REAL_MODEL, DetectorConfig(conf_threshold=0.05, num_threads=2))
    assert two_threads.detect(tiles) == expected
    parallel = OnnxDetector(
        REAL_MODEL, DetectorConfig(conf_threshold=0.05, num_threads=2, sessions=2)
    )
    assert parallel.detect(tiles) == expected
