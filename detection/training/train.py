"""Train a YOLO detector from scratch with ultralytics, fully offline and reproducibly.

The run directory keeps ultralytics' own outputs (``results.csv``, ``last.pt``) so an
interrupted run can be resumed; the final weights are copied to ``out_dir/<name>.pt`` with
``<name>.json`` beside them holding the config, seed, library versions, wall time and the
final validation metrics.
"""

from __future__ import annotations

import platform
import random
import shutil
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from detection.errors import TrainingError
from detection.training.config import Device, TrainConfig, save_json
from detection.training.offline import import_torch, import_ultralytics


@dataclass(frozen=True)
class TrainResult:
    """Where the weights went, how long it took and the last validation metrics."""

    weights: Path
    metadata: Path
    run_dir: Path
    elapsed_s: float
    metrics: dict[str, float]


def resolve_device(device: Device) -> str:
    """The ultralytics device string: ``"0"`` for the first GPU, ``"cpu"`` otherwise."""
    if device is Device.CPU:
        return "cpu"
    torch = import_torch()
    has_cuda = bool(torch.cuda.is_available())
    if device is Device.CUDA and not has_cuda:
        raise TrainingError("device=cuda asked for but torch sees no GPU; use --device cpu")
    return "0" if has_cuda else "cpu"


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch so data order and initial weights repeat."""
    random.seed(seed)
    np.random.seed(seed)  # ultralytics augmentations draw from numpy's global generator
    torch = import_torch()
    torch.manual_seed(seed)


def starts_from_weights(config: TrainConfig) -> bool:
    """True when ``model_yaml`` is a ``.pt`` file: fine-tune those weights, not from scratch."""
    return config.model_yaml.lower().endswith(".pt")


def _train_args(config: TrainConfig, run_dir: Path, device: str) -> dict[str, Any]:
    args: dict[str, Any] = {
        "data": str(config.data_yaml),
        "epochs": config.epochs,
        "imgsz": config.imgsz,
        "batch": config.batch,
        "seed": config.seed,
        "deterministic": True,
        "device": device,
        "workers": config.workers,
        "project": str(run_dir.parent),
        "name": run_dir.name,
        "exist_ok": True,
        # ultralytics >= 8.4 re-initialises even a loaded .pt when pretrained=False, so only a
        # run built from an architecture yaml may say False; a .pt keeps its weights
        "pretrained": starts_from_weights(config),
        "amp": device != "cpu",
        "plots": False,
        "patience": config.patience,
        "cache": "ram" if config.cache_images else False,
        "close_mosaic": config.close_mosaic_epochs,
        "optimizer": config.optimizer.value,
        "lr0": config.lr0,
        "warmup_epochs": config.warmup_epochs,
        "flipud": config.flipud,
        "scale": config.scale,
        "val": config.validate_each_epoch,
        "nbs": config.batch,  # one optimizer step per batch, see TrainConfig
        "verbose": True,
    }
    if config.time_limit_h is not None:
        args["time"] = config.time_limit_h
    args.update(config.extra)
    return args


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _versions() -> dict[str, str]:
    """Library versions, recorded because weights are only reproducible with the same ones."""
    return {
        "python": platform.python_version(),
        "ultralytics": _version("ultralytics"),
        "torch": _version("torch"),
        "numpy": np.__version__,
    }


def _metrics(trainer: Any) -> dict[str, float]:
    raw = getattr(trainer, "metrics", None) or {}
    return {str(k): float(v) for k, v in raw.items() if isinstance(v, int | float)}


def train(config: TrainConfig) -> TrainResult:
    """Train ``config.model_yaml`` on ``config.data_yaml`` and save the weights and metadata.

    Runs without network: ultralytics is imported in offline mode, the model is built from
    its yaml (no pretrained download), AMP's self-check (which would fetch a model) only runs
    on GPU where ``amp`` is on, and plotting (which would fetch a font) is off.
    """
    if not config.data_yaml.exists():
        raise TrainingError(
            f"{config.data_yaml} does not exist; make one with `nestpatrol model synth OUT`"
        )
    run_dir = (config.runs_dir / config.name).resolve()
    ultralytics = import_ultralytics(run_dir.parent / "ultralytics-config")
    device = resolve_device(config.device)
    seed_everything(config.seed)
    model = ultralytics.YOLO(config.model_yaml, task="detect")
    start = time.monotonic()
    model.train(**_train_args(config, run_dir, device))
    elapsed_s = time.monotonic() - start
    trainer = model.trainer
    best = Path(trainer.best if Path(trainer.best).exists() else trainer.last)
    config.out_dir.mkdir(parents=True, exist_ok=True)
    weights = config.out_dir / f"{config.name}.pt"
    shutil.copyfile(best, weights)
    metrics = _metrics(trainer)
    meta = config.out_dir / f"{config.name}.json"
    save_json(
        meta,
        {
            "config": config.to_json(),
            "device": device,
            "elapsed_s": round(elapsed_s, 1),
            "epochs_run": int(getattr(trainer, "epoch", -1)) + 1,
            "final_val_metrics": metrics,
            "versions": _versions(),
            "weights": weights.name,
        },
    )
    return TrainResult(weights, meta, run_dir, elapsed_s, metrics)
