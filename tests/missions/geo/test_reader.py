from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import pytest
import shapely

from missions.errors import GeographyInputError
from missions.geo.crs import parse_input_crs, wgs84_to_gcj02_geoms
from missions.geo.layers import LayerKind, PermitKind, PriorityClass
from missions.geo.reader import read_layer

from .conftest import polygon, square

TZ = ZoneInfo("Asia/Shanghai")
Writer = Callable[..., Path]


def problems_of(err: pytest.ExceptionInfo[GeographyInputError]) -> list[tuple[int | None, str]]:
    return [(p.index, p.problem) for p in err.value.problems]


def test_good_geojson_jurisdictions(write_geojson: Writer) -> None:
    path = write_geojson(
        [
            square(113.30, 22.90, code="J1", name="One"),
            square(113.32, 22.90, code="J2", name="Two", level="town"),
        ]
    )
    layer = read_layer(path, LayerKind.JURISDICTIONS, tz=TZ)
    assert list(layer.frame["code"]) == ["J1", "J2"]
    assert list(layer.frame["level"]) == ["street", "town"]
    assert layer.frame.crs.to_epsg() == 4326
    assert not layer.rejected
    assert not layer.notes


@pytest.mark.parametrize("ext", [".gpkg", ".shp"])
def test_good_geopackage_and_shapefile_in_a_projected_crs(tmp_path: Path, ext: str) -> None:
    frame = gpd.GeoDataFrame(
        {"priority": ["core", "low"]},
        geometry=[
            shapely.box(740000, 2540000, 741000, 2541000),
            shapely.box(750000, 2540000, 751000, 2541000),
        ],
        crs="EPSG:32649",
    )
    path = tmp_path / f"prio{ext}"
    frame.to_file(path)
    layer = read_layer(path, LayerKind.PRIORITY, tz=TZ)
    assert [PriorityClass(p) for p in layer.frame["priority"]] == [
        PriorityClass.CORE,
        PriorityClass.LOW,
    ]
    minx, miny, _, _ = layer.frame.total_bounds
    assert 113 < minx < 114
    assert 22 < miny < 24
    assert layer.source_crs.startswith("EPSG:32649")


def test_gcj02_input_is_converted_to_wgs84(write_geojson: Writer) -> None:
    wgs = shapely.box(113.30, 22.90, 113.31, 22.91)
    gcj = wgs84_to_gcj02_geoms(wgs)
    feature = {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(gcj)}
    layer = read_layer(
        write_geojson([feature]), LayerKind.BOUNDARY, input_crs=parse_input_crs("gcj02"), tz=TZ
    )
    assert shapely.hausdorff_distance(layer.frame.geometry.iloc[0], wgs) < 1e-8
    assert layer.source_crs == "GCJ-02"


def test_empty_file(write_geojson: Writer) -> None:
    with pytest.raises(GeographyInputError, match="no features") as err:
        read_layer(write_geojson([]), LayerKind.BOUNDARY, tz=TZ)
    assert err.value.problems[0].index is None


def test_missing_file_and_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(GeographyInputError, match="file not found"):
        read_layer(tmp_path / "nope.geojson", LayerKind.BOUNDARY, tz=TZ)
    junk = tmp_path / "junk.geojson"
    junk.write_text("{ not json")
    with pytest.raises(GeographyInputError, match="not a readable vector file"):
        read_layer(junk, LayerKind.BOUNDARY, tz=TZ)


def test_wrong_geometry_type_names_the_feature(write_geojson: Writer) -> None:
    point = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "Point", "coordinates": [113.3, 22.9]},
    }
    with pytest.raises(GeographyInputError) as err:
        read_layer(write_geojson([square(113.3, 22.9), point]), LayerKind.NOFLY, tz=TZ)
    assert problems_of(err) == [
        (1, "geometry is a Point, this layer needs Polygon or MultiPolygon")
    ]
    assert "feature 1" in str(err.value)
    assert "buffer points" in str(err.value)


def test_missing_crs_asks_for_input_crs(tmp_path: Path) -> None:
    path = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="crs"):
        gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=None).to_file(
            path
        )
    with pytest.raises(
        GeographyInputError, match=r"declares no coordinate reference system.*--input-crs"
    ):
        read_layer(path, LayerKind.BOUNDARY, tz=TZ)
    layer = read_layer(path, LayerKind.BOUNDARY, input_crs=parse_input_crs("EPSG:32649"), tz=TZ)
    assert len(layer.frame) == 1


def test_swapped_coordinates_are_named(write_geojson: Writer) -> None:
    swapped = polygon([(22.90, 113.30), (22.91, 113.30), (22.91, 113.31), (22.90, 113.31)])
    with pytest.raises(GeographyInputError, match="look swapped") as err:
        read_layer(write_geojson([square(113.3, 22.9), swapped]), LayerKind.BOUNDARY, tz=TZ)
    assert [i for i, _ in problems_of(err)] == [1]
    assert "longitude first" in str(err.value)


def test_projected_coordinates_given_as_lonlat_are_out_of_range(write_geojson: Writer) -> None:
    metres = polygon([(740000, 2540000), (741000, 2540000), (741000, 2541000)])
    with pytest.raises(GeographyInputError, match=r"out of lon/lat range.*--input-crs EPSG"):
        read_layer(write_geojson([metres]), LayerKind.BOUNDARY, tz=TZ)


def test_small_self_intersection_is_repaired_and_reported(write_geojson: Writer) -> None:
    # a square whose last edge overshoots the first corner: invalid, repair adds 0.01 % area
    ring = [(0, 0), (10, 0), (10, 10), (0, 10), (0.1, -0.1)]
    twisted = polygon([(113.0 + x / 100, 22.0 + y / 100) for x, y in ring], priority="core")
    result = read_layer(write_geojson([twisted]), LayerKind.PRIORITY, tz=TZ)
    assert len(result.frame) == 1
    assert result.frame.geometry.iloc[0].is_valid
    assert [n.index for n in result.notes] == [0]
    assert "Self-intersection" in result.notes[0].problem
    assert "repaired with make_valid" in result.notes[0].problem


def test_bow_tie_is_rejected(write_geojson: Writer) -> None:
    bowtie = polygon([(113.0, 22.0), (113.1, 22.1), (113.1, 22.0), (113.0, 22.1)], priority="core")
    with pytest.raises(
        GeographyInputError, match=r"invalid polygon.*Self-intersection.*bow-tie"
    ) as err:
        read_layer(write_geojson([bowtie]), LayerKind.PRIORITY, tz=TZ)
    assert problems_of(err)[0][0] == 0


def test_attribute_problems_are_all_listed(write_geojson: Writer) -> None:
    features = [
        square(113.30, 22.90, kind="construction", valid_from="2026-01-01", valid_to="2026-12-31"),
        square(113.31, 22.90, kind="parking"),
        square(113.32, 22.90),
        square(113.33, 22.90, kind="night_work", valid_from="2027-01-01", valid_to="2026-01-01"),
        square(113.34, 22.90, kind="disposal_site", valid_from="yesterday"),
    ]
    with pytest.raises(GeographyInputError) as err:
        read_layer(write_geojson(features), LayerKind.PERMITS, tz=TZ)
    found = problems_of(err)
    assert [i for i, _ in found] == [1, 2, 3, 4]
    assert "not one of: construction, night_work, disposal_site" in found[0][1]
    assert "'kind' is missing" in found[1][1]
    assert "is not before" in found[2][1]
    assert "ISO-8601" in found[3][1]


def test_skip_invalid_keeps_the_good_features(write_geojson: Writer) -> None:
    features = [
        square(113.30, 22.90, kind="construction", valid_from="2026-01-01T08:00"),
        square(113.31, 22.90, kind="parking"),
    ]
    layer = read_layer(write_geojson(features), LayerKind.PERMITS, tz=TZ, skip_invalid=True)
    assert layer.source_index == [0]
    assert [p.index for p in layer.rejected] == [1]
    assert PermitKind(layer.frame["kind"].iloc[0]) is PermitKind.CONSTRUCTION
    # naive local time is read as Asia/Shanghai and stored in UTC
    assert layer.frame["valid_from"].iloc[0].isoformat() == "2026-01-01T00:00:00+00:00"


def test_skip_invalid_with_nothing_good_still_fails(write_geojson: Writer) -> None:
    with pytest.raises(GeographyInputError):
        read_layer(
            write_geojson([square(113.3, 22.9, kind="x")]),
            LayerKind.PERMITS,
            tz=TZ,
            skip_invalid=True,
        )
