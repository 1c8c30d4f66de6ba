"""Training and export configuration, saved as JSON next to the weights they produced."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any

from detection.errors import TrainingError


class Optimizer(Enum):
    """Optimizer; ``auto`` lets ultralytics choose from the schedule length."""

    AUTO = "auto"
    SGD = "SGD"
    ADAMW = "AdamW"


class Device(Enum):
    """Where to train: ``auto`` picks CUDA when torch sees a GPU, else the CPU."""

    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run; two runs with equal configs give equal weights
    on the same hardware and library versions (ultralytics ``deterministic=True``).

    ``model_yaml`` names an ultralytics architecture file (``yolo11n.yaml``, ``yolov8n.yaml``)
    or a path to one: the network is built from scratch, nothing pretrained is downloaded. A
    local ``.pt`` path instead fine-tunes those weights (how a city adapts the baseline).
    ``time_limit_h``, when set, makes ultralytics fit the schedule into that wall time (it then
    decides the number of epochs, capped by ``epochs``), which keeps CPU training bounded.

    The defaults are the recipe of the committed baseline, tuned for a short CPU budget: one
    optimizer step per batch (ultralytics otherwise accumulates gradients up to 64 images, which
    leaves a 40-minute CPU run with a few dozen steps), a short warm-up, no per-epoch validation
    (the final epoch is still validated), vertical flips (nadir imagery has no "up") and a milder
    scale jitter so small piles stay visible at 256 px.
    """

    data_yaml: Path
    out_dir: Path = Path("models")
    runs_dir: Path = Path("nestpatrol-data/runs")
    name: str = "nestpatrol-baseline"
    model_yaml: str = "yolo11n.yaml"
    imgsz: int = 256
    epochs: int = 40
    batch: int = 8
    seed: int = 0
    device: Device = Device.AUTO
    workers: int = 1
    time_limit_h: float | None = None
    patience: int = 100
    cache_images: bool = True
    close_mosaic_epochs: int = 1
    optimizer: Optimizer = Optimizer.ADAMW
    lr0: float = 0.0015
    warmup_epochs: float = 0.3
    flipud: float = 0.5
    scale: float = 0.3
    validate_each_epoch: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 32 <= self.imgsz <= 2048 or self.imgsz % 32:
            raise TrainingError(f"imgsz={self.imgsz} must be a multiple of 32 within 32..2048")
        if self.epochs < 1 or self.batch < 1:
            raise TrainingError(f"epochs={self.epochs} and batch={self.batch} must be >= 1")
        if self.time_limit_h is not None and self.time_limit_h <= 0:
            raise TrainingError("time_limit_h must be positive hours, or None for no limit")
        if not 0 < self.lr0 <= 1:
            raise TrainingError(f"lr0={self.lr0} must be a learning rate in (0, 1], e.g. 0.0015")

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (paths and enums as strings)."""
        out = asdict(self)
        out["data_yaml"] = str(self.data_yaml)
        out["out_dir"] = str(self.out_dir)
        out["runs_dir"] = str(self.runs_dir)
        out["device"] = self.device.value
        out["optimizer"] = self.optimizer.value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_json`; unknown keys are an error so typos are not ignored."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise TrainingError(f"unknown training config keys {sorted(unknown)}; known: {known}")
        values = dict(data)
        values["data_yaml"] = Path(values["data_yaml"])
        for key in ("out_dir", "runs_dir"):
            if key in values:
                values[key] = Path(values[key])
        if "device" in values:
            values["device"] = Device(values["device"])
        if "optimizer" in values:
            values["optimizer"] = Optimizer(values["optimizer"])
        return cls(**values)


@dataclass(frozen=True)
class ExportConfig:
    """ONNX export settings.

    The default is a static 1×3×S×S input (S = the training image size) and opset 12: every
    ONNX Runtime build runs it, and the inference tiler feeds fixed-size letterboxed tiles one
    at a time. ``dynamic=True`` exports a dynamic batch and image size instead.
    """

    weights: Path
    imgsz: int | None = None  # None: the size the weights were trained at
    opset: int = 12
    dynamic: bool = False
    simplify: bool = True
    out_path: Path | None = None


def save_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as sorted, indented JSON (stable diffs under version control)."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
