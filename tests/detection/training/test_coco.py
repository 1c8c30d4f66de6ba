"""COCO ground truth: same metrics as the YOLO path on the same set, and clear errors."""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image
from typer.testing import CliRunner

from detection.classes import CLASS_NAMES
from detection.errors import DatasetError
from detection.synthetic.dataset import DatasetConfig, SeedRange, Split, export_yolo
from detection.training.cli import app
from detection.training.coco import read_coco
from detection.training.evaluate import (
    evaluate,
    evaluate_coco,
    labels_dir_for,
    read_yolo_labels,
)
from detection.training.onnx_predict import Detections

CFG = DatasetConfig(
    image_px=96, gsd_range_m=(0.08, 0.1), splits={Split.TEST: SeedRange(2_000_000, 5)}
)
Doc = dict[str, list[dict[str, object]]]


def yolo_to_coco(images_dir: Path) -> Doc:
    """The YOLO set as a COCO instances document (images in sorted order, ids from 1)."""
    labels_dir = labels_dir_for(images_dir)
    doc: Doc = {
        "images": [],
        "annotations": [],
        "categories": [{"id": i + 10, "name": n} for i, n in enumerate(CLASS_NAMES)],
    }
    for image_id, path in enumerate(sorted(images_dir.glob("*.jpg")), start=1):
        with Image.open(path) as im:
            w, h = im.size
        doc["images"].append({"id": image_id, "file_name": path.name, "width": w, "height": h})
        for cls, box in read_yolo_labels(labels_dir / f"{path.stem}.txt", w, h):
            x0, y0, x1, y1 = (float(v) for v in box)
            doc["annotations"].append(
                {
                    "id": len(doc["annotations"]) + 1,
                    "image_id": image_id,
                    "category_id": cls + 10,
                    "bbox": [x0, y0, x1 - x0, y1 - y0],
                    "iscrowd": 0,
                }
            )
    return doc


@pytest.fixture(scope="module")
def test_images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    export_yolo(root, CFG)
    return root / "images" / "test"


@pytest.fixture(scope="module")
def coco_doc(test_images: Path) -> Doc:
    return yolo_to_coco(test_images)


def write(doc: object, path: Path) -> Path:
    path.write_text(json.dumps(doc))
    return path


class LabelEcho:
    """Predicts the YOLO-labelled boxes shifted by ``shift_px``, in sorted file order."""

    def __init__(self, images_dir: Path, shift_px: float = 0.0) -> None:
        self.images = sorted(images_dir.glob("*.jpg"))
        self.labels_dir = labels_dir_for(images_dir)
        self.shift_px = shift_px
        self.calls = 0

    def predict(self, image: NDArray[np.uint8]) -> Detections:
        path = self.images[self.calls]
        self.calls += 1
        h, w = image.shape[:2]
        gt = read_yolo_labels(self.labels_dir / f"{path.stem}.txt", w, h)
        boxes = np.stack([b for _, b in gt]) if gt else np.zeros((0, 4), np.float32)
        scores = np.linspace(0.9, 0.3, len(gt), dtype=np.float32)
        return Detections(
            (boxes + self.shift_px).astype(np.float32),
            scores,
            np.asarray([c for c, _ in gt], dtype=np.int64),
        )


@pytest.mark.parametrize("shift_px", [0.0, 2.5, 500.0])
def test_coco_and_yolo_give_identical_metrics(
    test_images: Path, coco_doc: Doc, tmp_path: Path, shift_px: float
) -> None:
    annotations = write(coco_doc, tmp_path / "instances.json")
    yolo = evaluate(LabelEcho(test_images, shift_px), test_images)
    coco = evaluate_coco(LabelEcho(test_images, shift_px), annotations, test_images)
    assert json.dumps(coco.to_json()) == json.dumps(yolo.to_json())  # NaN-safe
    assert coco.notes == ()
    assert any(c.instances for c in coco.classes)


def test_images_default_to_the_json_folder(test_images: Path, coco_doc: Doc) -> None:
    annotations = write(coco_doc, test_images / "instances.json")
    try:
        report = evaluate_coco(LabelEcho(test_images), annotations, limit=2)
    finally:
        annotations.unlink()
    assert report.images == 2


def test_unknown_categories_and_crowds_are_ignored_and_reported_once(
    test_images: Path, coco_doc: Doc, tmp_path: Path
) -> None:
    doc = json.loads(json.dumps(coco_doc))
    doc["categories"].append({"id": 99, "name": "swimming_pool"})
    extra = {"image_id": 1, "bbox": [1, 1, 20, 20]}
    doc["annotations"] += [
        {**extra, "category_id": 99},
        {**extra, "category_id": 99, "iscrowd": 0},
        {**extra, "category_id": 10, "iscrowd": 1},
    ]
    report = evaluate_coco(LabelEcho(test_images), write(doc, tmp_path / "a.json"), test_images)
    plain = evaluate_coco(LabelEcho(test_images), write(coco_doc, tmp_path / "b.json"), test_images)
    assert repr(report.classes) == repr(plain.classes)  # NaN-safe
    assert len(report.notes) == 2
    assert "2 annotation(s) of category 'swimming_pool'" in report.notes[0]
    assert "iscrowd" in report.notes[1]
    assert report.to_json()["notes"] == list(report.notes)


def _broken(coco_doc: Doc, section: str, index: int, **changes: object) -> Doc:
    doc: Doc = json.loads(json.dumps(coco_doc))
    rec = doc[section][index]
    for key, value in changes.items():
        if value is None:
            del rec[key]
        else:
            rec[key] = value
    return doc


@pytest.mark.parametrize(
    "case",
    [
        ("annotations", {"bbox": None}, r"annotations\[1\]: missing key 'bbox'; add"),
        (
            "annotations",
            {"bbox": [1, 2, 3]},
            r"annotations\[1\]: bbox \[1, 2, 3\] is not 4 numbers",
        ),
        ("annotations", {"bbox": "1 2 3 4"}, r"annotations\[1\]: bbox .* is not 4 numbers"),
        ("annotations", {"bbox": [1, 2, -3, 4]}, r"annotations\[1\]: .*negative size"),
        ("annotations", {"image_id": 4242}, r"annotations\[1\]: image_id 4242 is not in 'images'"),
        ("annotations", {"category_id": 7}, r"annotations\[1\]: category_id 7 is not in"),
        ("annotations", {"category_id": "a"}, r"annotations\[1\]: 'category_id' is 'a', not an"),
        ("annotations", {"iscrowd": 2}, r"annotations\[1\]: iscrowd is 2; use 0 or 1"),
        ("images", {"width": None}, r"images\[1\]: missing key 'width'"),
        ("images", {"id": 1}, r"images\[1\]: image id 1 repeats"),
        (
            "images",
            {"file_name": "nope.jpg"},
            r"images\[1\]: image .*nope\.jpg not found.*--images",
        ),
        ("categories", {"name": None}, r"categories\[1\]: missing key 'name'"),
    ],
)
def test_bad_records_name_the_index_and_the_fix(
    test_images: Path,
    coco_doc: Doc,
    tmp_path: Path,
    case: tuple[str, dict[str, object], str],
) -> None:
    section, changes, message = case
    path = write(_broken(coco_doc, section, 1, **changes), tmp_path / "bad.json")
    with pytest.raises(DatasetError, match=message):
        read_coco(path, test_images)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a COCO object"),
        ('{"images": [], "annotations": [], "categories": []}', "'images' is empty"),
        ('{"images": [], "categories": []}', "no 'annotations' list"),
    ],
)
def test_unusable_files_are_dataset_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(DatasetError, match=message):
        read_coco(path)
    with pytest.raises(DatasetError, match="does not exist"):
        read_coco(tmp_path / "missing.json")


def test_a_size_that_disagrees_with_the_image_is_an_error(
    test_images: Path, coco_doc: Doc, tmp_path: Path
) -> None:
    doc = _broken(coco_doc, "images", 0, width=200)
    with pytest.raises(DatasetError, match=r"image id 1 .* is 96x96 px but the JSON says 200x96"):
        evaluate_coco(LabelEcho(test_images), write(doc, tmp_path / "a.json"), test_images)


def test_cli_eval_coco_writes_the_same_json_as_yolo(
    test_images: Path, coco_doc: Doc, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module("detection.training.evaluate")
    monkeypatch.setattr(module, "OnnxPredictor", lambda _: LabelEcho(test_images, 2.5))
    shutil.copytree(test_images, tmp_path / "pics")
    annotations = write(coco_doc, tmp_path / "instances.json")
    model = str(tmp_path / "m.onnx")
    args = ["eval", model, "--coco", str(annotations), "--images", str(tmp_path / "pics")]
    coco = CliRunner().invoke(app, [*args, "--json", str(tmp_path / "coco.json")])
    assert coco.exit_code == 0, coco.output
    yolo = CliRunner().invoke(app, ["eval", model, str(test_images), "--json", str(tmp_path / "y")])
    assert yolo.exit_code == 0, yolo.output
    assert (tmp_path / "coco.json").read_text() == (tmp_path / "y").read_text()


def test_cli_eval_needs_exactly_one_ground_truth(test_images: Path, tmp_path: Path) -> None:
    model = str(tmp_path / "m.onnx")
    runner = CliRunner()
    neither = runner.invoke(app, ["eval", model])
    both = runner.invoke(app, ["eval", model, str(test_images), "--coco", str(tmp_path / "a")])
    stray = runner.invoke(app, ["eval", model, str(test_images), "--images", str(tmp_path)])
    for result in (neither, both):
        assert result.exit_code == 2
        assert "exactly one" in result.output
    assert stray.exit_code == 2
    assert "--images only applies with --coco" in stray.output


def test_cli_eval_coco_reports_bad_input_clearly(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["eval", str(tmp_path / "m.onnx"), "--coco", str(tmp_path / "none.json")]
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output
