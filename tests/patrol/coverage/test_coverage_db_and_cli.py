from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from sqlalchemy import Engine

from api.cli.main import run
from missions.flows.grid import build_and_store
from missions.geo.layers import LayerKind
from missions.storage import load_cells, save_layer
from patrol.coverage.flows import current_coverage
from patrol.storage import FlightRecord, FrameRecord, load_sightings, record_flight

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
DISTRICT = shapely.box(113.30, 22.90, 113.31, 22.91)


def with_grid(engine: Engine) -> None:
    import geopandas as gpd

    save_layer(
        engine,
        LayerKind.BOUNDARY,
        gpd.GeoDataFrame({"name": ["D"]}, geometry=[DISTRICT], crs=4326),
        source="t",
    )
    build_and_store(engine, cell_size_m=100)


def frames_over(box: shapely.Geometry, start: datetime, n: int = 4) -> list[FrameRecord]:
    minx, miny, maxx, maxy = box.bounds
    xs = np.linspace(minx, maxx, n + 1)
    return [
        FrameRecord(
            f"f{i}-{start:%H%M}",
            start + timedelta(seconds=i),
            shapely.box(xs[i], miny, xs[i + 1], maxy),
        )
        for i in range(n)
    ]


def test_record_flight_derives_sightings_and_replaces_on_rerun(engine: Engine) -> None:
    with_grid(engine)
    area = shapely.box(113.301, 22.901, 113.305, 22.905)
    frames = frames_over(area, T0)
    flight = FlightRecord("F1", T0, T0 + timedelta(minutes=5), nest_id="N01")
    n = record_flight(engine, flight, frames)
    cells = load_cells(engine)
    inside = cells[shapely.within(np.asarray(cells.geometry.values), area)]
    assert n >= len(inside) > 0
    assert len(load_sightings(engine)) == n
    assert record_flight(engine, flight, frames) == n
    assert len(load_sightings(engine)) == n  # replaced, not duplicated
    view = current_coverage(engine, at=T0 + timedelta(hours=1), window_hours=24)
    seen = view.state[view.state["count"] > 0]
    assert set(inside["cell_id"]) <= set(seen["cell_id"])
    assert seen["hours_since_seen"].between(0.99, 1.01).all()


def test_cli_ingest_stats_and_maps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--data-dir", str(tmp_path)]
    boundary = tmp_path / "b.geojson"
    boundary.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": shapely.geometry.mapping(DISTRICT),
                    }
                ],
            }
        )
    )
    assert run(["init", *db]) == 0
    assert run(["import", "boundary", str(boundary), *db]) == 0
    assert run(["grid", "build", *db]) == 0
    area = shapely.box(113.301, 22.901, 113.305, 22.905)
    features = [
        {
            "type": "Feature",
            "properties": {"flight_id": "F1", "taken_at": f.taken_at.isoformat()},
            "geometry": shapely.geometry.mapping(f.footprint),
        }
        for f in frames_over(area, T0)
    ]
    footprints = tmp_path / "frames.geojson"
    footprints.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    capsys.readouterr()
    assert run(["coverage", "ingest", str(footprints), *db]) == 0
    assert "recorded 1 flight(s), 4 frames" in capsys.readouterr().out
    at = (T0 + timedelta(hours=3)).isoformat()
    assert run(["coverage", "stats", "--at", at, *db]) == 0
    out = capsys.readouterr().out
    assert "By priority class" in out
    assert "never" in out
    for ext in ("png", "geojson", "tif"):
        assert run(["coverage", "map", "--out", str(tmp_path / f"cov.{ext}"), "--at", at, *db]) == 0
    with rasterio.open(tmp_path / "cov.tif") as src:
        band = src.read(1)
        assert src.crs.to_epsg() == 32649
        seen = band[(band >= 0)]
        assert len(seen) > 0
        assert np.allclose(seen, 3.0, atol=0.01)
        assert (band == src.nodata).any()
    data = json.loads((tmp_path / "cov.geojson").read_text())
    hours = [f["properties"]["hours_since_seen"] for f in data["features"]]
    assert any(h is None for h in hours)
    assert any(h is not None and abs(h - 3) < 0.01 for h in hours)


def test_bad_footprint_file_names_the_feature(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--data-dir", str(tmp_path)]
    run(["init", *db])
    bad = tmp_path / "frames.geojson"
    bad.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"flight_id": "F1", "taken_at": "soon"},
                        "geometry": shapely.geometry.mapping(DISTRICT),
                    }
                ],
            }
        )
    )
    capsys.readouterr()
    assert run(["coverage", "ingest", str(bad), *db]) == 2
    assert "feature 0: 'taken_at' 'soon'" in capsys.readouterr().err.replace("\n", " ")
