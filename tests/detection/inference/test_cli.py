"""``detect`` command end to end: GeoJSON out, skipped files listed, no network."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import shape
from typer.testing import CliRunner

from detection.cli import app
from detection.inference.testing import FixedOutputModel, write_fixed_output_onnx
from detection.sources.testing import DronePhotoSpec, write_drone_jpeg, write_geotiff

pytest.importorskip("onnx", reason="building the test model needs the onnx package")


def _model(tmp_path: Path) -> Path:
    spec = FixedOutputModel(
        np.array([[20, 20, 10, 10], [44, 40, 12, 8]], np.float32),
        np.array([[0.9, 0, 0, 0], [0, 0, 0.8, 0]], np.float32),
        metadata={"imgsz": "[64, 64]"},
    )
    return write_fixed_output_onnx(tmp_path / "m.onnx", spec)


def test_detect_writes_geojson_and_lists_skipped_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(12)
    ortho = write_geotiff(tmp_path / "o.tif", rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    photo = write_drone_jpeg(
        tmp_path / "p.jpg", rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), DronePhotoSpec()
    )
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    out = tmp_path / "det.geojson"

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("detect tried to use the network")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    argv = [str(ortho), str(photo), str(broken), "--model", str(_model(tmp_path))]
    result = CliRunner().invoke(app, [*argv, "--out", str(out), "--overlap", "0.0"])
    assert result.exit_code == 0, result.output
    assert "broken.jpg" in result.output
    assert "1 file(s) skipped" in result.output

    collection = json.loads(out.read_text())
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert {f["properties"]["source"] for f in features} == {str(ortho), str(photo)}
    assert {f["properties"]["class"] for f in features} == {
        "illegal_structure",
        "construction_machinery",
    }
    for f in features:
        polygon = shape(f["geometry"])
        assert polygon.is_valid
        lon, lat = polygon.centroid.coords[0]
        assert 113 < lon < 114  # the GeoTIFF origin and the photo are both in Panyu
        assert 22 < lat < 23.5
    assert collection["skipped"][0]["source"] == str(broken)


def test_detect_fails_clearly_without_a_usable_model_or_files(tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, [str(tmp_path), "--model", str(tmp_path / "none.onnx")])
    assert missing.exit_code == 2
    assert "not found" in missing.output
    junk = tmp_path / "x.jpg"
    junk.write_bytes(b"junk")
    nothing = CliRunner().invoke(
        app, [str(junk), "--model", str(_model(tmp_path)), "--out", str(tmp_path / "o.json")]
    )
    assert nothing.exit_code == 1
    assert "x.jpg" in nothing.output


def test_an_interrupted_run_resumes_and_refuses_other_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from detection.inference import pipeline

    rng = np.random.default_rng(13)
    files = [
        write_geotiff(tmp_path / f"{k}.tif", rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
        for k in "ab"
    ]
    model = _model(tmp_path)
    out = tmp_path / "det.geojson"
    argv = [*map(str, files), "--model", str(model), "--out", str(out)]
    real = pipeline._detect_file
    seen: list[str] = []

    def crash_on_b(path: Path, *args: object) -> object:
        seen.append(path.name)
        if path.name == "b.tif":
            raise KeyboardInterrupt
        return real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "_detect_file", crash_on_b)
    interrupted = CliRunner().invoke(app, argv)
    assert interrupted.exit_code != 0
    assert not out.exists()
    assert seen == ["a.tif", "b.tif"]

    other = CliRunner().invoke(app, [*argv, "--conf", "0.5"])
    assert other.exit_code == 2
    assert "other options" in other.output

    def spy(path: Path, *args: object) -> object:
        seen.append(path.name)
        return real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "_detect_file", spy)
    seen.clear()
    resumed = CliRunner().invoke(app, argv)
    assert resumed.exit_code == 0, resumed.output
    assert "resuming: 1 file(s)" in resumed.output
    assert seen == ["b.tif"]  # a.tif came from the checkpoint
    sources = {f["properties"]["source"] for f in json.loads(out.read_text())["features"]}
    assert sources == {str(f) for f in files}
    assert not list(tmp_path.glob("*.progress.jsonl"))
