from __future__ import annotations

from pathlib import Path

from detection.inference.pipeline import expand_paths


def test_a_file_named_directly_and_through_its_folder_is_listed_once(tmp_path: Path) -> None:
    (tmp_path / "b.tif").write_bytes(b"x")
    (tmp_path / "a.jpg").write_bytes(b"x")
    listed = list(expand_paths([tmp_path / "b.tif", tmp_path, tmp_path / "missing.tif"]))
    assert listed == [tmp_path / "b.tif", tmp_path / "a.jpg", tmp_path / "missing.tif"]
