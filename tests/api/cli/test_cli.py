from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from api.auth.service import authenticate
from api.cli.main import run
from missions.demo.district import demo_boundary_path
from missions.storage import make_engine


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = run(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_one_shot_grid_build_writes_wgs84_geojson(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cells.geojson"
    code, text = cli(
        capsys,
        "grid",
        "build",
        "--boundary",
        str(demo_boundary_path()),
        "--input-crs",
        "gcj02",
        "--cell-size",
        "500",
        "--out",
        str(out),
        "--data-dir",
        str(tmp_path),
    )
    assert code == 0, text
    data = json.loads(out.read_text())
    props = data["features"][0]["properties"]
    assert set(props) >= {"cell_id", "jurisdiction", "priority", "revisit_target_s", "no_fly"}
    assert props["priority"] == "standard"
    assert props["revisit_target_s"] == 86400
    minx, miny, maxx, maxy = shapely.geometry.shape(data["features"][0]["geometry"]).bounds
    assert 113.2 < minx < maxx < 113.6
    assert 22.8 < miny < maxy < 23.1
    area_km2 = sum(f["properties"]["area_m2"] for f in data["features"]) / 1e6
    assert area_km2 == pytest.approx(519.5, abs=1.0)


def test_init_import_build_stats_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--data-dir", str(tmp_path)]
    assert cli(capsys, "init", *db)[0] == 0
    code, text = cli(
        capsys, "import", "boundary", str(demo_boundary_path()), "--input-crs", "gcj02", *db
    )
    assert code == 0
    assert "imported 1 boundary" in text
    zones = tmp_path / "priority.geojson"
    zones.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"priority": "core"},
                        "geometry": shapely.geometry.mapping(
                            shapely.box(113.35, 22.93, 113.37, 22.95)
                        ),
                    }
                ],
            }
        )
    )
    assert cli(capsys, "import", "priority", str(zones), *db)[0] == 0
    code, text = cli(capsys, "grid", "build", "--cell-size", "250", *db)
    assert code == 0
    assert "stored" in text
    code, text = cli(capsys, "grid", "stats", *db)
    assert code == 0
    assert "core" in text
    assert "standard" in text
    for ext in ("geojson", "gpkg"):
        out = tmp_path / f"cells.{ext}"
        assert cli(capsys, "grid", "export", "--out", str(out), *db)[0] == 0
        assert out.stat().st_size > 1000
    code, _ = cli(
        capsys, "grid", "export", "--out", str(tmp_path / "g.geojson"), "--crs", "gcj02", *db
    )
    assert code == 0


def test_errors_are_clean_and_name_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--data-dir", str(tmp_path)]
    code, text = cli(capsys, "grid", "stats", *db)
    assert code == 2
    assert "nestpatrol init" in text
    cli(capsys, "init", *db)
    code, text = cli(capsys, "grid", "build", *db)
    assert code == 2
    assert "import boundary" in text
    bad = tmp_path / "bad.geojson"
    bad.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Point", "coordinates": [113.3, 22.9]},
                    }
                ],
            }
        )
    )
    code, text = cli(capsys, "import", "nofly", str(bad), *db)
    assert code == 2
    assert "feature 0" in text
    assert "Polygon" in text
    code, text = cli(capsys, "import", "nofly", str(bad), "--input-crs", "bd09", *db)
    assert code == 2
    assert "unknown CRS" in text
    code, text = cli(capsys, "grid", "export", "--out", str(tmp_path / "x.shp"), *db)
    assert code == 2
    # commands that end with typer.Exit(2) exit 2 as well (not 0)
    missing = str(tmp_path / "none.onnx")
    code, text = cli(capsys, "model", "quantize", missing, "--out", str(tmp_path / "q.onnx"))
    assert code == 2
    assert "no such model file" in text


def test_demo_runs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = cli(
        capsys, "demo", "--no-serve", "--sim-hours", "0.5", "--data-dir", str(tmp_path)
    )
    assert code == 0, text
    assert "officer" in text
    assert "planner" in text
    assert "52,378 cells" in text
    assert "ILL-16" in text
    png = tmp_path / "demo" / "district_map.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "24 h schedule: ours vs naive round-robin baseline" in text
    assert "capacity bound" in text
    assert "5-minute reach" in text
    plan = json.loads((tmp_path / "demo" / "plan" / "schedule.json").read_text())
    assert plan["metrics"]["ours"]["sorties"] > 100
    assert (tmp_path / "demo" / "reach.png").stat().st_size > 10_000
    # ... then flies the first half hour in the simulator, detects and scores it
    assert "Simulated patrol: 0.5 h" in text
    sim = json.loads((tmp_path / "demo" / "sim" / "report.json").read_text())
    assert sim["hours"] == 0.5
    assert sim["flights"]["flights"] >= 5
    # every flight photographs its survey lines (one frame per 101.5 m flown; ~66 a flight here)
    assert sim["cost"]["frames_captured"] >= 30 * sim["flights"]["flights"]
    # demo users can log in with the printed passwords
    users = json.loads((tmp_path / "demo" / "demo-users.json").read_text())
    engine = make_engine(f"sqlite:///{tmp_path / 'nestpatrol.db'}")
    assert authenticate(engine, username="officer", password=users["officer"]) is not None
    engine.dispose()
