"""ultralytics (.pt) backend: lazy import, clear error without the extra, BGR hand-over."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from detection.errors import ModelError
from detection.inference import UltralyticsDetector, load_detector


def test_importing_the_inference_package_does_not_import_torch() -> None:
    code = (
        "import sys, detection.inference\n"
        "print('torch' in sys.modules, 'ultralytics' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_missing_ultralytics_gives_a_fix_it_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"not really weights")
    real_import = importlib.import_module

    def no_ultralytics(name: str, package: str | None = None) -> ModuleType:
        if name == "ultralytics":
            raise ImportError("No module named 'ultralytics'")
        return real_import(name, package)

    monkeypatch.setattr(importlib, "import_module", no_ultralytics)
    with pytest.raises(ModelError, match="train"):
        load_detector(weights)


@pytest.mark.slow
def test_random_yolo_weights_run_through_the_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YOLO_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    ultralytics = pytest.importorskip(
        "ultralytics", reason="ultralytics is in the optional train extra and is not installed"
    )
    weights = tmp_path / "random.pt"
    ultralytics.YOLO("yolov8n.yaml").save(str(weights))
    det = load_detector(weights)
    assert isinstance(det, UltralyticsDetector)
    assert len(det.class_names) == 80  # the yaml's default class count
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in [(96, 160), (64, 64)]]
    results = det.detect(images)
    assert len(results) == 2
    for image, dets in zip(images, results, strict=True):
        for d in dets:
            assert 0 <= d.box_xyxy_px[0] <= d.box_xyxy_px[2] <= image.shape[1]
            assert d.score >= det.config.conf_threshold


def test_corrupt_pt_weights_raise_model_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YOLO_CONFIG_DIR", str(tmp_path / "cfg"))
    pytest.importorskip("ultralytics", reason="ultralytics is in the optional train extra")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(np.random.default_rng(4).bytes(512))
    with pytest.raises(ModelError, match="cannot load"):
        load_detector(junk)
