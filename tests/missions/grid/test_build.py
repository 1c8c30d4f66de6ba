from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from missions.errors import GridError
from missions.grid import build_grid

from .conftest import X0, Y0, metric_to_wgs, shapes

SHAPES = shapes()


def check_tiling(boundary_wgs: shapely.Geometry, cell_size_m: float = 100.0) -> None:
    grid = build_grid(boundary_wgs, cell_size_m)
    geoms = np.asarray(grid.cells.geometry.values, dtype=object)
    union = shapely.union_all(geoms)
    total = float(shapely.area(geoms).sum())
    # cells tile the district: union equals the district, and no two cells overlap
    assert union.area == pytest.approx(grid.district_area_m2, rel=1e-3)
    assert total == pytest.approx(union.area, rel=1e-6)
    assert grid.cells["cell_id"].is_unique
    assert (grid.cells["area_m2"] > 0).all()
    # no cell is bigger than a full square plus the slivers merged into it
    assert grid.cells["area_m2"].max() <= cell_size_m**2 * 1.4


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_cells_tile_the_district(name: str) -> None:
    check_tiling(metric_to_wgs(SHAPES[name]))


def test_invalid_boundary_is_repaired() -> None:
    grid = build_grid(metric_to_wgs(SHAPES["invalid"]))
    assert grid.repaired_boundary_change > 0
    assert len(grid.cells) > 0


def test_ids_are_stable_across_rebuilds_and_boundary_edits() -> None:
    first = build_grid(metric_to_wgs(SHAPES["square"]))
    again = build_grid(metric_to_wgs(SHAPES["square"]))
    assert list(first.cells["cell_id"]) == list(again.cells["cell_id"])
    assert all(
        shapely.equals_exact(a, b, tolerance=1e-6)
        for a, b in zip(first.cells.geometry, again.cells.geometry, strict=True)
    )
    grown = build_grid(metric_to_wgs(shapely.box(X0, Y0, X0 + 3050, Y0 + 1535.2)))
    full = first.cells[(first.cells["area_m2"] - 100**2).abs() < 1e-3]  # whole, unmerged
    grown_by_id = grown.cells.set_index("cell_id")["area_m2"]
    assert full["cell_id"].isin(grown_by_id.index).all()
    assert np.allclose(
        grown_by_id.loc[full["cell_id"]].to_numpy(), full["area_m2"].to_numpy(), rtol=1e-6
    )


def test_id_encodes_zone_size_column_and_row() -> None:
    grid = build_grid(metric_to_wgs(SHAPES["square"]))
    row = grid.cells.iloc[0]
    assert row["cell_id"] == f"49N-100-{row['col']:06d}-{row['row']:06d}"
    assert grid.crs.to_epsg() == 32649


def test_slivers_merge_into_their_largest_neighbour() -> None:
    grid = build_grid(metric_to_wgs(SHAPES["square"]))
    # the square ends 5 m and 3 m past the lattice: those slivers must be merged away;
    # unless it has no neighbour; here every piece has one
    assert grid.merged_slivers > 0
    assert (grid.cells["area_m2"] >= 0.1 * 100**2).all()


def test_an_isolated_islet_keeps_its_own_cell() -> None:
    grid = build_grid(metric_to_wgs(SHAPES["islands"]))
    small = grid.cells[grid.cells["area_m2"] < 0.1 * 100**2]
    assert len(small) == 1
    assert small["area_m2"].iloc[0] == pytest.approx(20 * 25, rel=1e-3)


def test_cell_size_changes_the_count() -> None:
    b = metric_to_wgs(SHAPES["concave"])
    assert len(build_grid(b, 50).cells) > 3.5 * len(build_grid(b, 100).cells)


@pytest.mark.parametrize("bad", [0.0, -5.0])
def test_bad_cell_size(bad: float) -> None:
    with pytest.raises(GridError, match="cell size must be positive"):
        build_grid(metric_to_wgs(SHAPES["square"]), bad)


def test_empty_boundary() -> None:
    with pytest.raises(GridError, match="boundary is empty"):
        build_grid(shapely.Polygon())


@st.composite
def star_districts(draw: st.DrawFn) -> shapely.Geometry:
    """Random star-shaped districts (often concave), sometimes with a hole."""
    n = draw(st.integers(5, 14))
    radii = draw(st.lists(st.floats(400, 2000), min_size=n, max_size=n))
    angles = np.sort(
        np.array(draw(st.lists(st.floats(0, 2 * np.pi), min_size=n, max_size=n, unique=True)))
    )
    cx, cy = X0 + draw(st.floats(0, 100)), Y0 + draw(st.floats(0, 100))
    shell = shapely.Polygon(
        np.column_stack([cx + np.cos(angles) * radii, cy + np.sin(angles) * radii])
    )
    shell = shapely.make_valid(shell)
    if draw(st.booleans()):
        shell = shapely.difference(shell, shapely.Point(cx, cy).buffer(draw(st.floats(50, 300))))
    return shell


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(star_districts(), st.sampled_from([50.0, 100.0, 137.5]))
def test_tiling_invariants_on_random_districts(district: shapely.Geometry, size: float) -> None:
    if district.is_empty or district.area < 1000:
        return
    check_tiling(metric_to_wgs(district), size)
