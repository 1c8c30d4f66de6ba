"""Ticket fixtures: the shared per-module database, a grid with jurisdictions, active clues."""

from __future__ import annotations

from datetime import UTC, datetime

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Engine

from api.clues import ClueConfig, Detection, ingest_detections
from missions.geo.crs import WGS84
from missions.geo.layers import LayerKind
from missions.grid import GridAttributes, assign_attributes, build_grid
from missions.storage import save_grid, save_layer

from ..clues.conftest import LAT0, LON0, engine, feature, module_engine, square

__all__ = ["LAT0", "LON0", "engine", "module_engine", "square"]

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def rect(dx0_m: float, dy0_m: float, dx1_m: float, dy1_m: float) -> shapely.Polygon:
    lower, upper = square(dx0_m, dy0_m, 1.0), square(dx1_m, dy1_m, 1.0)
    return shapely.box(*lower.bounds[:2], *upper.bounds[:2])


def load_small_district(engine: Engine) -> None:
    """A 2 km × 1 km district split into west (J-W) and east (J-E) jurisdictions, 100 m cells."""
    district = rect(-1000.0, -500.0, 1000.0, 500.0)
    west, east = rect(-1000.0, -500.0, 0.0, 500.0), rect(0.0, -500.0, 1000.0, 500.0)
    juris = gpd.GeoDataFrame(
        {
            "code": ["J-W", "J-E"],
            "name": ["West", "East"],
            "level": ["town", "town"],
            "dispatch_contact": [None, None],
            "illustrative": [True, True],
        },
        geometry=[west, east],
        crs=WGS84,
    )
    save_layer(engine, LayerKind.JURISDICTIONS, juris, source="test")
    grid = build_grid(district, 100)
    cells = assign_attributes(grid, GridAttributes(jurisdictions=juris))
    save_grid(engine, grid, cells)


def make_active_clues(
    engine: Engine, offsets_m: list[float], cls: str = "construction_waste"
) -> list[int]:
    feats = [
        feature(cls, T0.isoformat(), dx, 0.0, score=0.8, source=f"f{i}")
        for i, dx in enumerate(offsets_m)
    ]
    dets = [Detection.from_geojson_feature(f, i) for i, f in enumerate(feats)]
    report = ingest_detections(
        engine, detections=dets, config=ClueConfig(baseline_on_first_observation=False)
    )
    return report.clue_ids


@pytest.fixture
def district(engine: Engine) -> Engine:
    load_small_district(engine)
    return engine
