from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Engine

from missions.errors import GeographyInputError, GridError
from missions.flows.geography import import_layer
from missions.flows.grid import build_and_store, grid_stats
from missions.geo.layers import LayerKind
from missions.storage import load_cells

TZ = ZoneInfo("Asia/Shanghai")


def write(path: Path, geoms: list[shapely.Geometry], props: list[dict[str, object]]) -> Path:
    features = [
        {"type": "Feature", "properties": p, "geometry": shapely.geometry.mapping(g)}
        for g, p in zip(geoms, props, strict=True)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_import_then_build_grid(engine: Engine, tmp_path: Path) -> None:
    district = shapely.box(113.30, 22.90, 113.32, 22.92)
    import_layer(
        engine,
        write(tmp_path / "b.geojson", [district], [{"name": "D"}]),
        LayerKind.BOUNDARY,
        input_crs=None,
        tz=TZ,
    )
    halves = [shapely.box(113.30, 22.90, 113.31, 22.92), shapely.box(113.31, 22.90, 113.32, 22.92)]
    summary = import_layer(
        engine,
        write(
            tmp_path / "j.geojson",
            halves,
            [{"code": "A", "name": "West"}, {"code": "B", "name": "East"}],
        ),
        LayerKind.JURISDICTIONS,
        input_crs=None,
        tz=TZ,
    )
    assert summary.stored == 2
    assert not summary.notes
    built = build_and_store(engine, cell_size_m=100)
    stats = grid_stats(engine)
    assert stats["cells"].sum() == len(built.cells) == len(load_cells(engine))
    assert set(stats["jurisdiction"]) == {"A", "B"}
    assert stats["area_km2"].sum() == pytest.approx(built.grid.district_area_m2 / 1e6)


def test_features_outside_the_district_are_reported_and_kept(
    engine: Engine, tmp_path: Path
) -> None:
    import_layer(
        engine,
        write(tmp_path / "b.geojson", [shapely.box(113.30, 22.90, 113.32, 22.92)], [{}]),
        LayerKind.BOUNDARY,
        input_crs=None,
        tz=TZ,
    )
    zones = [
        shapely.box(113.305, 22.905, 113.306, 22.906),
        shapely.box(113.40, 22.90, 113.41, 22.91),
    ]
    summary = import_layer(
        engine,
        write(tmp_path / "n.geojson", zones, [{}, {}]),
        LayerKind.NOFLY,
        input_crs=None,
        tz=TZ,
    )
    assert summary.stored == 2
    assert [(n.index, "outside the district" in n.problem) for n in summary.notes] == [(1, True)]


def test_duplicate_jurisdiction_codes_are_refused(engine: Engine, tmp_path: Path) -> None:
    geoms = [shapely.box(113.30, 22.90, 113.31, 22.92), shapely.box(113.31, 22.90, 113.32, 22.92)]
    path = write(
        tmp_path / "j.geojson", geoms, [{"code": "A", "name": "x"}, {"code": "A", "name": "y"}]
    )
    with pytest.raises(GeographyInputError, match="code 'A' repeats feature 0") as err:
        import_layer(engine, path, LayerKind.JURISDICTIONS, input_crs=None, tz=TZ)
    assert err.value.problems[0].index == 1


def test_grid_needs_a_boundary(engine: Engine) -> None:
    with pytest.raises(GridError, match="import boundary"):
        build_and_store(engine, cell_size_m=100)
    with pytest.raises(GridError, match="grid build"):
        grid_stats(engine)


def test_geopandas_frames_are_wgs84(engine: Engine, tmp_path: Path) -> None:
    import_layer(
        engine,
        write(tmp_path / "b.geojson", [shapely.box(113.30, 22.90, 113.31, 22.91)], [{}]),
        LayerKind.BOUNDARY,
        input_crs=None,
        tz=TZ,
    )
    build_and_store(engine, cell_size_m=200)
    cells = load_cells(engine)
    assert isinstance(cells, gpd.GeoDataFrame)
    assert cells.crs.to_epsg() == 4326
