"""Training config validation and its JSON round trip (saved next to the weights)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from detection.errors import TrainingError
from detection.training.cli import app
from detection.training.config import Device, TrainConfig
from detection.training.train import starts_from_weights


def test_config_round_trips_through_json() -> None:
    cfg = TrainConfig(
        data_yaml=Path("d/data.yaml"),
        imgsz=320,
        epochs=3,
        seed=9,
        device=Device.CPU,
        time_limit_h=0.5,
        extra={"lr0": 0.02},
    )
    assert TrainConfig.from_json(cfg.to_json()) == cfg


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("imgsz", 100),
        ("imgsz", 16),
        ("epochs", 0),
        ("time_limit_h", 0.0),
        ("lr0", 0.0),
        ("lr0", 2.0),
    ],
)
def test_bad_values_are_refused(field: str, value: float) -> None:
    with pytest.raises(TrainingError):
        TrainConfig(data_yaml=Path("x.yaml"), **{field: value})  # type: ignore[arg-type]


def test_unknown_keys_are_refused() -> None:
    data = TrainConfig(data_yaml=Path("x.yaml")).to_json()
    data["epoch"] = 3
    with pytest.raises(TrainingError, match="epoch"):
        TrainConfig.from_json(data)


def test_only_a_pt_file_starts_from_weights() -> None:
    assert starts_from_weights(TrainConfig(Path("d.yaml"), model_yaml="models/base.PT"))
    assert not starts_from_weights(TrainConfig(Path("d.yaml"), model_yaml="yolo11n.yaml"))


def test_the_cli_passes_lr0_and_names_a_bad_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train", str(tmp_path / "d.yaml"), "--lr0", "0"])
    assert result.exit_code == 2
    assert "lr0=0.0 must be a learning rate in (0, 1]" in " ".join(result.output.split())
