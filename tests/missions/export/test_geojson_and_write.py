"""GeoJSON shape, and write_export writing every format where it is asked to."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from missions.export import ExportError, ExportFormat, render, to_geojson, write_export
from missions.fleet.profiles import Nest
from missions.planning.sortie import Sortie


def test_geojson_path_and_points(sortie: Sortie) -> None:
    fc = to_geojson(sortie)
    json.dumps(fc, allow_nan=False)
    assert fc["type"] == "FeatureCollection"
    path, *points = fc["features"]
    assert path["geometry"]["type"] == "LineString"
    coords = path["geometry"]["coordinates"]
    assert coords == [[w.lon, w.lat, w.alt_m] for w in sortie.waypoints]
    assert path["properties"]["nest_id"] == "nest-07"
    assert path["properties"]["planned_end"] == "2026-11-23T02:10:12+00:00"
    assert [p["geometry"]["type"] for p in points] == ["Point"] * len(sortie.waypoints)
    assert [p["properties"]["action"] for p in points] == [w.action.value for w in sortie.waypoints]


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_write_export_writes_each_format(
    fmt: ExportFormat, sortie: Sortie, nest: Nest, tmp_path: Path
) -> None:
    out = write_export(sortie, nest, fmt, tmp_path / f"s.{fmt.value}")
    data = out.read_bytes()
    assert data == render(sortie, nest, fmt)
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temp file left behind
    if fmt is ExportFormat.KMZ:
        assert zipfile.is_zipfile(out)
    elif fmt is ExportFormat.WPL:
        assert data.startswith(b"QGC WPL 110\n")
    else:
        assert json.loads(data)


def test_write_export_into_missing_folder_says_how_to_fix(
    sortie: Sortie, nest: Nest, tmp_path: Path
) -> None:
    with pytest.raises(ExportError, match=r"does not exist\. Fix"):
        write_export(sortie, nest, ExportFormat.WPL, tmp_path / "nope" / "s.wpl")


def test_format_values_are_the_cli_names() -> None:
    assert [f.value for f in ExportFormat] == ["wpl", "plan", "kmz", "geojson"]
