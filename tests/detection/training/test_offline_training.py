"""End-to-end smoke test: offline ultralytics training, ONNX export and evaluation.

Needs the ``train`` extra (torch, ultralytics, onnx); skipped with the reason otherwise. The
network is cut at the socket layer and every attempt is recorded, so a download anywhere in
training or export fails the test instead of silently falling back.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from detection.classes import CLASS_NAMES
from detection.synthetic.dataset import DatasetConfig, SeedRange, Split, export_yolo
from detection.training.config import Device, ExportConfig, TrainConfig
from detection.training.evaluate import evaluate

_MISSING = [
    name for name in ("torch", "ultralytics", "onnx") if importlib.util.find_spec(name) is None
]
pytestmark = pytest.mark.skipif(
    bool(_MISSING),
    reason=f"the train extra is not installed (missing {', '.join(_MISSING)}): "
    "pip install -e '.[train]'",
)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Refuse and record every connection or DNS lookup."""
    attempts: list[str] = []

    def refuse_connect(self: socket.socket, address: Any) -> None:
        attempts.append(f"connect {address}")
        raise OSError("network disabled in tests")

    def refuse_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(f"getaddrinfo {host}")
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_lookup)
    for key in ("YOLO_OFFLINE", "YOLO_AUTOINSTALL", "YOLO_VERBOSE", "YOLO_CONFIG_DIR"):
        monkeypatch.setenv(key, os.environ.get(key, ""))
        monkeypatch.delenv(key)
    return attempts


@pytest.mark.slow
# torch.onnx's TorchScript exporter, which ultralytics uses, raises DeprecationWarnings
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tiny_training_exports_and_evaluates_offline(tmp_path: Path, no_network: list[str]) -> None:
    from detection.training.export import export_onnx
    from detection.training.train import train

    data = export_yolo(
        tmp_path / "data",
        DatasetConfig(
            image_px=64,
            gsd_range_m=(0.15, 0.2),
            splits={Split.TRAIN: SeedRange(0, 4), Split.VAL: SeedRange(100, 2)},
        ),
    )
    cfg = TrainConfig(
        data_yaml=data,
        out_dir=tmp_path / "models",
        runs_dir=tmp_path / "runs",
        name="tiny",
        imgsz=64,
        epochs=1,
        batch=2,
        device=Device.CPU,
        workers=0,
        cache_images=False,
    )
    result = train(cfg)
    assert result.weights.exists()
    saved = result.metadata.read_text()
    assert '"seed": 0' in saved
    assert '"imgsz": 64' in saved

    import torch

    with warnings.catch_warnings():
        # tracing warns about tensor-to-bool conversions; under "warnings are errors" the warning
        # is raised inside torch's C code and surfaces as a SystemError, so scope it out here
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        onnx_path = export_onnx(ExportConfig(result.weights, imgsz=64))
    assert onnx_path == result.weights.with_suffix(".onnx")
    report = evaluate(onnx_path, tmp_path / "data" / "images" / "val")
    assert [c.name for c in report.classes] == list(CLASS_NAMES)
    assert report.images == 2
    assert no_network == []
    assert os.environ["YOLO_OFFLINE"] == "1"

    # fine-tuning from the .pt keeps its weights: with every learning rate at zero the
    # convolutions come out as they went in (a re-initialised network would not)
    frozen = {"warmup_bias_lr": 0.0, "warmup_epochs": 0.0, "lr0": 0.0}
    tuned = train(replace(cfg, name="tuned", model_yaml=str(result.weights), extra=frozen))
    before = torch.load(result.weights, weights_only=False)["model"].model[0].conv.weight
    after = torch.load(tuned.weights, weights_only=False)["model"].model[0].conv.weight
    torch.testing.assert_close(after.float(), before.float(), atol=1e-3, rtol=0)
    assert no_network == []
