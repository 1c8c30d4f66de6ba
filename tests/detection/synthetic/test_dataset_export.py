"""YOLO export: layout ultralytics expects, seed-disjoint splits, resumable runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from detection.classes import CLASS_NAMES
from detection.errors import DatasetError
from detection.synthetic.dataset import (
    DatasetConfig,
    SeedRange,
    Split,
    export_yolo,
    is_background,
    make_frame,
)

TINY = DatasetConfig(
    image_px=64,
    gsd_range_m=(0.2, 0.3),
    splits={
        Split.TRAIN: SeedRange(0, 3),
        Split.VAL: SeedRange(100, 1),
        Split.TEST: SeedRange(200, 2),
    },
)


def test_export_writes_images_labels_yaml_and_manifest(tmp_path: Path) -> None:
    data_yaml = export_yolo(tmp_path, TINY)
    data = json.loads(data_yaml.read_text())  # JSON is YAML: ultralytics reads it
    assert data["names"] == {str(i): n for i, n in enumerate(CLASS_NAMES)}
    for split, seeds in TINY.splits.items():
        images = sorted((tmp_path / "images" / split.value).glob("*.jpg"))
        assert [int(p.stem) for p in images] == list(seeds.seeds())
        for img in images:
            with Image.open(img) as im:
                assert im.size == (64, 64)
            label = tmp_path / "labels" / split.value / f"{img.stem}.txt"
            for line in label.read_text().splitlines():
                cls, *box = line.split()
                assert 0 <= int(cls) < len(CLASS_NAMES)
                assert all(0 <= float(v) <= 1 for v in box)
    records = [json.loads(x) for x in (tmp_path / "scenes.jsonl").read_text().splitlines()]
    assert len(records) == sum(r.count for r in TINY.splits.values())


def test_export_resumes_without_redoing_frames(tmp_path: Path) -> None:
    export_yolo(tmp_path, TINY)
    first = tmp_path / "images" / "train" / "0000000.jpg"
    stamp = first.stat().st_mtime_ns
    first.with_name("0000001.jpg").unlink()
    export_yolo(tmp_path, TINY)
    assert first.stat().st_mtime_ns == stamp
    assert first.with_name("0000001.jpg").exists()


def test_frames_are_reproducible_per_seed() -> None:
    a, b = make_frame(42, Split.TRAIN, TINY), make_frame(42, Split.TRAIN, TINY)
    np.testing.assert_array_equal(a.scene.image, b.scene.image)
    assert a.scene.labels == b.scene.labels
    assert a.night == b.night


def test_overlapping_seed_ranges_are_refused() -> None:
    with pytest.raises(DatasetError, match="overlap"):
        DatasetConfig(splits={Split.TRAIN: SeedRange(0, 10), Split.TEST: SeedRange(5, 10)})


def test_default_splits_are_disjoint() -> None:
    seen: set[int] = set()
    for seeds in DatasetConfig().splits.values():
        assert seen.isdisjoint(seeds.seeds())
        seen.update(seeds.seeds())


def test_night_fraction_is_respected() -> None:
    cfg = DatasetConfig(image_px=32, gsd_range_m=(0.5, 0.5), night_fraction=0.5)
    nights = [make_frame(s, Split.TRAIN, cfg).night for s in range(20)]
    assert 3 <= sum(nights) <= 17  # loose binomial(20, 0.5) bounds


def test_background_fraction_picks_about_that_share_of_seeds() -> None:
    cfg = DatasetConfig(background_fraction=0.5)
    picked = [is_background(s, Split.TRAIN, cfg) for s in range(400)]
    assert 160 <= sum(picked) <= 240  # binomial(400, 0.5) within five sigma
    assert picked == [is_background(s, Split.TRAIN, cfg) for s in range(400)]
    assert not any(is_background(s, Split.TEST, cfg) for s in range(400))  # test kept intact
    assert not any(is_background(s, Split.TRAIN, DatasetConfig()) for s in range(400))


def test_background_frames_export_empty_labels(tmp_path: Path) -> None:
    cfg = DatasetConfig(
        image_px=64,
        gsd_range_m=(0.2, 0.3),
        background_fraction=0.5,
        splits={Split.TRAIN: SeedRange(0, 12), Split.TEST: SeedRange(200, 2)},
    )
    export_yolo(tmp_path, cfg)
    records = {
        r["seed"]: r for r in map(json.loads, (tmp_path / "scenes.jsonl").read_text().splitlines())
    }
    labels = sorted((tmp_path / "labels" / "train").glob("*.txt"))
    background = [p for p in labels if records[int(p.stem)]["background"]]
    assert 2 <= len(background) <= 10
    assert all(p.read_text() == "" for p in background)
    assert not any(records[s]["background"] for s in (200, 201))
    frame = make_frame(int(background[0].stem), Split.TRAIN, cfg)
    again = make_frame(int(background[0].stem), Split.TRAIN, cfg)
    assert frame.background
    assert frame.scene.labels == ()
    np.testing.assert_array_equal(frame.scene.image, again.scene.image)


def test_background_fraction_leaves_other_frames_unchanged() -> None:
    cfg = DatasetConfig(image_px=32, gsd_range_m=(0.3, 0.3), background_fraction=0.5)
    old = DatasetConfig(image_px=32, gsd_range_m=(0.3, 0.3))
    seed = next(s for s in range(50) if not is_background(s, Split.TRAIN, cfg))
    a, b = make_frame(seed, Split.TRAIN, cfg), make_frame(seed, Split.TRAIN, old)
    np.testing.assert_array_equal(a.scene.image, b.scene.image)
    assert a.scene.labels == b.scene.labels


def test_fractions_outside_zero_one_are_refused() -> None:
    with pytest.raises(DatasetError, match="background_fraction"):
        DatasetConfig(background_fraction=1.5)
    with pytest.raises(DatasetError, match="night_fraction"):
        DatasetConfig(night_fraction=-0.1)
