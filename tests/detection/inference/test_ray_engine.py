"""The Ray engine: same outcomes as local, a killed worker loses and doubles nothing, CLI.

One local Ray (2 CPUs) is shared by the whole module; skipped when Ray is not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from detection.cli import app
from detection.inference import Detection, Detector, RgbImage, SliceConfig
from detection.inference.export import to_feature
from detection.inference.pipeline import FileOutcome, PipelineConfig, iter_detection
from detection.inference.ray_engine import RayConfig, RayEngineError, iter_detection_ray
from detection.inference.testing import (
    ColourBlobDetector,
    FixedOutputModel,
    write_fixed_output_onnx,
)
from detection.sources.testing import DronePhotoSpec, write_drone_jpeg, write_geotiff

ray = pytest.importorskip("ray", reason="the ray engine tests need Ray: pip install -e '.[ray]'")

RED = (255, 0, 0)
CONFIG = PipelineConfig(slicing=SliceConfig(tile_size_px=64, overlap_ratio=0.25))
blob_detector = partial(ColourBlobDetector, [RED], ["illegal_structure"], tolerance=60)


@pytest.fixture(scope="module", autouse=True)
def ray_session() -> Iterator[None]:
    """One local Ray for the module; the engine finds it running and leaves it up."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    # the crash-injecting detector below lives in this (not importable) test module
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield
    ray.shutdown()


def _scene(seed: int, h: int, w: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.integers(80, 120, (h, w, 3), dtype=np.uint8)
    x, y = int(rng.integers(0, w - 40)), int(rng.integers(0, h - 30))
    image[y : y + 30, x : x + 40] = RED  # may straddle a tile seam
    return image


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six orthophotos, two drone photos and one corrupt JPEG in one folder."""
    root = tmp_path_factory.mktemp("ray_inputs")
    for i in range(6):
        write_geotiff(root / f"ortho_{i}.tif", _scene(i, 150, 200))
    for i in range(2):
        write_drone_jpeg(root / f"photo_{i}.jpg", _scene(10 + i, 120, 160), DronePhotoSpec())
    (root / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return root


def _records(outcomes: list[FileOutcome]) -> list[dict[str, Any]]:
    return [
        {
            "source": str(o.path),
            "skipped_reason": o.skipped_reason,
            "tiles": (o.tiles_total, o.tiles_skipped),
            "features": [to_feature(d) for d in o.detections],
        }
        for o in outcomes
    ]


@pytest.fixture(scope="module")
def local_records(inputs: Path) -> list[dict[str, Any]]:
    return _records(list(iter_detection([inputs], blob_detector(), CONFIG)))


def test_ray_gives_the_local_outcomes_in_the_local_order(
    inputs: Path, local_records: list[dict[str, Any]]
) -> None:
    outcomes = list(iter_detection_ray([inputs], blob_detector, config=CONFIG))
    assert _records(outcomes) == local_records
    assert sum(len(r["features"]) for r in local_records) >= 8  # the test sees something


def test_a_corrupt_file_is_skipped_with_its_reason_and_the_rest_done(
    inputs: Path, local_records: list[dict[str, Any]]
) -> None:
    outcomes = list(iter_detection_ray([inputs], blob_detector, config=CONFIG))
    skipped = [o for o in outcomes if o.skipped_reason is not None]
    assert [o.path.name for o in skipped] == ["corrupt.jpg"]
    assert "corrupt.jpg" in str(skipped[0].skipped_reason)
    assert skipped[0].skipped_reason == local_records[0]["skipped_reason"]  # sorted first
    assert sum(o.skipped_reason is None for o in outcomes) == 8


@dataclass(frozen=True)
class _CrashOnce:
    """A detector whose worker process dies on the first call made anywhere (marker file)."""

    marker: Path

    def __call__(self) -> Detector:
        return _CrashingDetector(self.marker)


class _CrashingDetector(ColourBlobDetector):
    def __init__(self, marker: Path) -> None:
        super().__init__([RED], ["illegal_structure"], tolerance=60)
        self._marker = marker

    def detect(self, images: Sequence[RgbImage]) -> list[list[Detection]]:
        try:
            os.close(os.open(self._marker, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return super().detect(images)
        os._exit(1)  # the worker is killed mid-job, with calls queued on it


def test_a_killed_worker_is_retried_and_no_file_is_lost_or_doubled(
    inputs: Path, local_records: list[dict[str, Any]], tmp_path: Path
) -> None:
    marker = tmp_path / "crashed"
    outcomes = list(
        iter_detection_ray(
            [inputs], _CrashOnce(marker), config=CONFIG, ray_config=RayConfig(max_retries=2)
        )
    )
    assert marker.exists()  # a worker really died
    assert _records(outcomes) == local_records


def test_cli_ray_engine_writes_the_local_geojson(inputs: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnx", reason="building the test model needs the onnx package")
    spec = FixedOutputModel(
        np.array([[20, 20, 10, 10], [44, 40, 12, 8]], np.float32),
        np.array([[0.9, 0, 0, 0], [0, 0, 0.8, 0]], np.float32),
        metadata={"imgsz": "[64, 64]"},
    )
    model = write_fixed_output_onnx(tmp_path / "m.onnx", spec)
    outputs = []
    for engine in ("local", "ray"):
        out = tmp_path / f"{engine}.geojson"
        argv = [str(inputs), "--model", str(model), "--out", str(out), "--engine", engine]
        result = CliRunner().invoke(app, [*argv, "--ray-workers", "2"])
        assert result.exit_code == 0, result.output
        assert "1 file(s) skipped" in result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert json.loads(outputs[1])["features"]


def test_the_local_engine_imports_no_ray() -> None:
    code = (
        "import sys, detection.cli, detection.inference.pipeline, "
        "detection.inference.ray_engine; sys.exit('ray' in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_without_ray_the_engine_says_how_to_install_it(
    inputs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(RayEngineError, match=r"pip install -e '\.\[ray\]'"):
        list(iter_detection_ray([inputs], blob_detector, config=CONFIG))
