"""Evaluation on a tiny synthetic set with a fake predictor at the model seam."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image
from typer.testing import CliRunner

from detection.errors import DatasetError
from detection.synthetic.dataset import DatasetConfig, SeedRange, Split, export_yolo
from detection.training.cli import app
from detection.training.evaluate import (
    evaluate,
    labels_dir_for,
    load_confusers,
    read_yolo_labels,
)
from detection.training.onnx_predict import Detections

CFG = DatasetConfig(
    image_px=96, gsd_range_m=(0.08, 0.1), splits={Split.TEST: SeedRange(2_000_000, 6)}
)


@pytest.fixture(scope="module")
def test_images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    export_yolo(root, CFG)
    return root / "images" / "test"


class LabelEcho:
    """Predicts exactly the labelled boxes (optionally shifted): a perfect or a useless model."""

    def __init__(self, images_dir: Path, shift_px: float = 0.0) -> None:
        self.images_dir = images_dir
        self.shift_px = shift_px
        self.calls = 0

    def predict(self, image: NDArray[np.uint8]) -> Detections:
        path = sorted(self.images_dir.glob("*.jpg"))[self.calls]
        self.calls += 1
        h, w = image.shape[:2]
        gt = read_yolo_labels(labels_dir_for(self.images_dir) / f"{path.stem}.txt", w, h)
        boxes = np.stack([b for _, b in gt]) if gt else np.zeros((0, 4), np.float32)
        return Detections(
            (boxes + self.shift_px).astype(np.float32),
            np.full(len(gt), 0.9, dtype=np.float32),
            np.asarray([c for c, _ in gt], dtype=np.int64),
        )


def test_perfect_predictions_score_one(test_images: Path) -> None:
    report = evaluate(LabelEcho(test_images), test_images)
    assert report.images == 6
    with_objects = [c for c in report.classes if c.instances]
    assert with_objects
    for row in with_objects:
        assert row.ap50 == pytest.approx(1.0)
        assert row.precision == pytest.approx(1.0)
        assert row.recall == pytest.approx(1.0)
    assert sum(report.false_alarms.counts.values()) == 0


def test_far_off_predictions_score_zero(test_images: Path) -> None:
    report = evaluate(LabelEcho(test_images, shift_px=500.0), test_images)
    assert all(c.ap50 == 0.0 for c in report.classes if c.instances)
    assert report.map50 == 0.0


def test_confusers_come_from_the_manifest(test_images: Path) -> None:
    confusers = load_confusers(test_images)
    assert set(confusers) == {p.stem for p in test_images.glob("*.jpg")}


def test_malformed_label_is_a_dataset_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.txt"
    bad.write_text("0 0.5 0.5\n")
    with pytest.raises(DatasetError, match=r"x\.txt:1"):
        read_yolo_labels(bad, 100, 100)
    bad.write_text("9 0.5 0.5 0.1 0.1\n")
    with pytest.raises(DatasetError, match="class 9"):
        read_yolo_labels(bad, 100, 100)


def test_labels_dir_needs_an_images_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="images"):
        labels_dir_for(tmp_path / "pictures")
    assert labels_dir_for(Path("a/images/test")) == Path("a/labels/test")


def test_cli_eval_reports_a_missing_model_clearly(test_images: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "none.onnx"), str(test_images)])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_cli_synth_writes_a_dataset(tmp_path: Path) -> None:
    args = ["synth", str(tmp_path), "--train-count", "2", "--val-count", "1", "--test-count", "1"]
    result = CliRunner().invoke(app, [*args, "--image-px", "64"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "data.yaml").exists()
    with Image.open(next((tmp_path / "images" / "val").glob("*.jpg"))) as im:
        assert im.size == (64, 64)


def test_cli_synth_background_fraction_empties_train_labels_only(tmp_path: Path) -> None:
    args = ["synth", str(tmp_path), "--train-count", "3", "--val-count", "0", "--test-count", "1"]
    result = CliRunner().invoke(app, [*args, "--image-px", "64", "--background-fraction", "1"])
    assert result.exit_code == 0, result.output
    records = [json.loads(x) for x in (tmp_path / "scenes.jsonl").read_text().splitlines()]
    assert [r["background"] for r in records] == [True, True, True, False]
    assert all(p.read_text() == "" for p in (tmp_path / "labels" / "train").glob("*.txt"))


def test_cli_synth_refuses_a_bad_fraction(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["synth", str(tmp_path), "--background-fraction", "2"])
    assert result.exit_code == 2
    assert "background_fraction" in result.output
