from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Engine

from missions.export import ExportFormat
from missions.fleet import Nest
from missions.flows.grid import build_and_store
from missions.flows.plan import export_sortie, plan_day, respond, write_day
from missions.geo.crs import WGS84
from missions.geo.layers import LAYER_COLUMNS, LayerKind
from missions.planning.errors import SafetyViolation
from missions.planning.sortie import Waypoint
from missions.storage import save_layer, save_nests
from missions.storage.sorties import load_sortie, load_sorties, save_sorties

TZ = ZoneInfo("Asia/Shanghai")
LON0, LAT0 = 113.38, 22.95
START = datetime(2026, 11, 24, 6, 0, tzinfo=TZ)


def district(engine: Engine) -> None:
    boundary = shapely.box(LON0, LAT0, LON0 + 0.02, LAT0 + 0.016)
    save_layer(
        engine,
        LayerKind.BOUNDARY,
        gpd.GeoDataFrame({"name": ["D"]}, geometry=[boundary], crs=WGS84),
        source="t",
    )
    zone = {c: [None] for c in LAYER_COLUMNS[LayerKind.NOFLY]}
    save_layer(
        engine,
        LayerKind.NOFLY,
        gpd.GeoDataFrame(
            zone, geometry=[shapely.Point(LON0 + 0.01, LAT0 + 0.008).buffer(0.0015)], crs=WGS84
        ),
        source="t",
    )
    build_and_store(engine, cell_size_m=100)
    save_nests(
        engine, [Nest("A", LON0 + 0.004, LAT0 + 0.004), Nest("B", LON0 + 0.016, LAT0 + 0.012)]
    )


def test_plan_store_respond_and_export(engine: Engine, tmp_path: Path) -> None:
    district(engine)
    day = plan_day(engine, start=START, hours=6.0, tz=TZ)
    stored = load_sorties(engine)
    assert [s.sortie_id for s in stored] == [
        s.sortie_id for s in sorted(day.ours.sorties, key=lambda s: s.planned_start)
    ]
    assert (
        stored[0].waypoints
        == next(s for s in day.ours.sorties if s.sortie_id == stored[0].sortie_id).waypoints
    )
    paths = write_day(day, tmp_path / "plan")
    doc = json.loads((tmp_path / "plan" / "schedule.json").read_text())
    assert doc["metrics"]["ours"]["sorties"] == len(stored)
    assert {p.name for p in paths} >= {"schedule.json", "sorties.geojson"}
    answer = respond(
        engine, lon=LON0 + 0.005, lat=LAT0 + 0.005, at=START + timedelta(minutes=30), tz=TZ
    )
    assert answer.best is not None
    assert answer.best.nest_id == "A"
    assert 0 < answer.best.eta_s < 300
    out = export_sortie(
        engine,
        sortie_id=stored[0].sortie_id,
        fmt=ExportFormat.WPL,
        out=tmp_path / "s.waypoints",
        tz=TZ,
    )
    assert out.read_text().startswith("QGC WPL 110")


def test_export_refuses_an_unsafe_sortie(engine: Engine, tmp_path: Path) -> None:
    district(engine)
    plan_day(engine, start=START, hours=3.0, tz=TZ)
    sortie = load_sorties(engine)[0]
    high = [
        Waypoint(
            w.lon, w.lat, 150.0 if i == 2 else w.alt_m, w.speed_mps, w.action, w.trigger_spacing_m
        )
        for i, w in enumerate(sortie.waypoints)
    ]
    sortie.waypoints = high
    save_sorties(engine, [sortie], ["standard"])
    with pytest.raises(SafetyViolation, match=sortie.sortie_id):
        export_sortie(
            engine, sortie_id=sortie.sortie_id, fmt=ExportFormat.KMZ, out=tmp_path / "s.kmz", tz=TZ
        )
    assert not (tmp_path / "s.kmz").exists()
    assert load_sortie(engine, sortie.sortie_id).waypoints[2].alt_m == 150.0
