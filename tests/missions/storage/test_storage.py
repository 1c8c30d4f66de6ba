from __future__ import annotations

from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pytest
import shapely
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from missions.errors import StorageError
from missions.fleet import DroneProfile, Nest, NestStatus
from missions.geo.crs import WGS84
from missions.geo.layers import LayerKind
from missions.grid import GridAttributes, assign_attributes, build_grid
from missions.storage import (
    BBox,
    load_boundary,
    load_cells,
    load_grid_info,
    load_layer,
    load_nests,
    make_engine,
    require_schema,
    save_grid,
    save_layer,
    save_nests,
    upgrade,
)
from missions.storage.base import Base
from missions.storage.engine import current_revision, head_revision

DISTRICT = shapely.Polygon(
    [
        (113.30, 22.90),
        (113.33, 22.90),
        (113.33, 22.915),
        (113.315, 22.915),
        (113.315, 22.93),
        (113.30, 22.93),
    ]
)


def test_migrations_are_idempotent_and_match_the_models(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    require_schema(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # the PostGIS extension's own tables are not ours; GiST indexes exist on PostgreSQL only
    ours = [
        d
        for d in diff
        if not (d[0] == "remove_table" and d[1].name == "spatial_ref_sys")
        and not (
            d[0] == "add_index"
            and engine.dialect.name == "sqlite"
            and d[1].dialect_options["postgresql"]["using"] == "gist"
        )
    ]
    assert ours == []


def test_empty_database_is_refused_with_the_fix(db_url: str) -> None:
    engine = make_engine(db_url)
    with pytest.raises(StorageError, match="run `nestpatrol init`"):
        require_schema(engine)
    engine.dispose()


def test_bad_urls() -> None:
    with pytest.raises(StorageError, match="cannot parse database URL"):
        make_engine("not a url")
    with pytest.raises(StorageError, match="unsupported database 'mysql'"):
        make_engine("mysql://root@localhost/x")


def test_layers_round_trip(engine: Engine) -> None:
    assert load_boundary(engine) is None
    save_layer(
        engine,
        LayerKind.BOUNDARY,
        gpd.GeoDataFrame({"name": ["D"]}, geometry=[DISTRICT], crs=WGS84),
        source="t",
    )
    assert shapely.equals_exact(
        shapely.normalize(load_boundary(engine)),
        shapely.normalize(shapely.MultiPolygon([DISTRICT])),
        1e-12,
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    nofly = gpd.GeoDataFrame(
        {
            "name": ["a", "b"],
            "floor_m": [None, 30.0],
            "ceiling_m": [None, 200.0],
            "active_from": [None, start],
            "active_to": [None, None],
            "daily_start": [None, "19:00"],
            "daily_end": [None, "23:00"],
        },
        geometry=[
            shapely.box(113.31, 22.91, 113.312, 22.912),
            shapely.box(113.32, 22.905, 113.321, 22.906),
        ],
        crs=WGS84,
    )
    assert save_layer(engine, LayerKind.NOFLY, nofly, source="t") == 2
    back = load_layer(engine, LayerKind.NOFLY)
    assert list(back["name"]) == ["a", "b"]
    assert back["floor_m"].iloc[1] == 30.0
    assert back["active_from"].iloc[1] == start
    assert back["daily_start"].iloc[1] == "19:00"
    # replacing a layer replaces it
    save_layer(engine, LayerKind.NOFLY, nofly.iloc[:1], source="t")
    assert len(load_layer(engine, LayerKind.NOFLY)) == 1


def test_cells_round_trip_and_bbox_query_matches_brute_force(engine: Engine) -> None:
    grid = build_grid(DISTRICT, 100)
    cells = assign_attributes(grid, GridAttributes())
    assert save_grid(engine, grid, cells) == len(cells)
    info = load_grid_info(engine)
    assert info is not None
    assert info.cell_count == len(cells)
    assert info.crs_epsg == 32649
    stored = load_cells(engine)
    assert sorted(stored["cell_id"]) == sorted(cells["cell_id"])
    assert stored.geometry.to_crs(grid.crs).area.sum() == pytest.approx(cells.area.sum(), rel=1e-9)
    box = BBox(113.305, 22.905, 113.318, 22.921)
    hit = load_cells(engine, bbox=box)
    brute = stored[
        shapely.intersects(
            np.asarray(stored.geometry.values), shapely.box(113.305, 22.905, 113.318, 22.921)
        )
    ]
    assert sorted(hit["cell_id"]) == sorted(brute["cell_id"])
    assert 0 < len(hit) < len(stored)
    # rebuilding replaces, never duplicates
    save_grid(engine, grid, cells)
    assert len(load_cells(engine)) == len(cells)


def test_bbox_must_not_be_empty() -> None:
    with pytest.raises(ValueError, match="min ≤ max"):
        BBox(113.4, 22.9, 113.3, 23.0)


def test_nests_round_trip(engine: Engine) -> None:
    nests = [
        Nest("N1", 113.31, 22.91, 5.0),
        Nest("N2", 113.32, 22.92, 7.5, DroneProfile(cruise_speed_mps=14.0), NestStatus.OFFLINE),
    ]
    save_nests(engine, nests)
    assert load_nests(engine) == nests
