from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from missions.geo.crs import WGS84
from missions.geo.layers import LAYER_COLUMNS, LayerKind
from missions.grid import GridAttributes, assign_attributes, build_grid

from .conftest import X0, Y0, metric_to_wgs

DISTRICT = shapely.box(X0, Y0, X0 + 2000, Y0 + 1000)


def frame(geoms: list[shapely.Geometry], **cols: list[object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=[metric_to_wgs(g) for g in geoms], crs=WGS84)


def nofly_frame(geoms: list[shapely.Geometry], **over: list[object]) -> gpd.GeoDataFrame:
    cols: dict[str, list[object]] = {c: [None] * len(geoms) for c in LAYER_COLUMNS[LayerKind.NOFLY]}
    cols.update(over)
    return frame(geoms, **cols)


def cells_with(attrs: GridAttributes) -> gpd.GeoDataFrame:
    return assign_attributes(build_grid(metric_to_wgs(DISTRICT)), attrs)


def test_jurisdiction_by_largest_overlap_and_everyone_gets_one() -> None:
    west = shapely.box(X0 - 50, Y0 - 50, X0 + 1030, Y0 + 1100)
    east = shapely.box(X0 + 1030, Y0 + 300, X0 + 2100, Y0 + 1100)  # leaves a strip uncovered
    cells = cells_with(GridAttributes(jurisdictions=frame([west, east], code=["W", "E"])))
    assert cells["jurisdiction"].notna().all()
    # brute-force reference, one cell at a time, in the metric CRS
    expected = []
    for geom in cells.geometry:
        overlaps = [geom.intersection(west).area, geom.intersection(east).area]
        if max(overlaps) > 0:
            expected.append("WE"[int(np.argmax(overlaps))])
        else:
            expected.append("WE"[int(np.argmin([geom.distance(west), geom.distance(east)]))])
    assert list(cells["jurisdiction"]) == expected
    assert {"W", "E"} == set(expected)


def test_priority_is_the_most_demanding_overlap() -> None:
    core = shapely.box(X0 + 10, Y0 + 10, X0 + 400, Y0 + 400)
    low = shapely.box(X0, Y0, X0 + 2000, Y0 + 1000)
    cells = cells_with(GridAttributes(priority_areas=frame([low, core], priority=["low", "core"])))
    in_core = shapely.intersects(np.asarray(cells.geometry.values), core) & ~shapely.touches(
        np.asarray(cells.geometry.values), core
    )
    assert set(cells.loc[in_core, "priority"]) == {"core"}
    assert set(cells.loc[~in_core, "priority"]) == {"low"}
    assert set(cells.loc[in_core, "revisit_target_s"]) == {7200}
    assert set(cells.loc[~in_core, "revisit_target_s"]) == {7 * 24 * 3600}


def test_default_priority_is_standard_with_configurable_targets() -> None:
    from missions.geo.layers import PriorityClass

    targets = {
        PriorityClass.CORE: 3600,
        PriorityClass.STANDARD: 12 * 3600,
        PriorityClass.LOW: 86400,
    }
    cells = cells_with(GridAttributes(revisit_s=targets))
    assert set(cells["priority"]) == {"standard"}
    assert set(cells["revisit_target_s"]) == {12 * 3600}


def test_no_fly_flag_uses_cell_centres_and_only_permanent_low_zones() -> None:
    zone = shapely.Point(X0 + 1000, Y0 + 500).buffer(260)
    timed = shapely.box(X0, Y0, X0 + 300, Y0 + 300)
    high = shapely.box(X0 + 1700, Y0, X0 + 2000, Y0 + 300)
    nofly = nofly_frame(
        [zone, timed, high],
        daily_start=[None, "19:00", None],
        daily_end=[None, "23:00", None],
        floor_m=[None, None, 150.0],
    )
    cells = cells_with(GridAttributes(nofly=nofly))
    centres = cells.geometry.centroid
    expected = shapely.contains(zone, np.asarray(centres.values))
    assert (cells["no_fly"].to_numpy() == expected).all()
    assert expected.any()
    assert not expected.all()


@pytest.mark.parametrize("layer", ["jurisdictions", "priority_areas", "nofly"])
def test_empty_layers_are_fine(layer: str) -> None:
    empty = gpd.GeoDataFrame({"code": [], "priority": []}, geometry=[], crs=WGS84)
    if layer == "nofly":
        empty = nofly_frame([])
    cells = cells_with(GridAttributes(**{layer: empty}))
    assert len(cells) == len(build_grid(metric_to_wgs(DISTRICT)).cells)
    assert cells["jurisdiction"].isna().all() or layer != "jurisdictions"
