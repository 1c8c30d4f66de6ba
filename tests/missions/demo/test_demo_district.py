from __future__ import annotations

import numpy as np
import pytest
import shapely

from missions.demo.district import (
    CORE_AREA_M2,
    core_nest_count,
    make_demo_district,
    place_nests,
)
from missions.grid import GridAttributes, assign_attributes, build_grid


@pytest.fixture(scope="module")
def demo() -> tuple[object, object]:
    district = make_demo_district()
    grid = build_grid(district.boundary.geometry.iloc[0], 100)
    cells = assign_attributes(
        grid,
        GridAttributes(
            jurisdictions=district.jurisdictions,
            priority_areas=district.priority,
            nofly=district.nofly,
        ),
    )
    return district, cells


def test_layers_are_illustrative_and_complete(demo: tuple) -> None:  # type: ignore[type-arg]
    district, cells = demo
    assert len(district.jurisdictions) == 16
    assert district.jurisdictions["illustrative"].all()
    assert district.jurisdictions["name"].str.startswith("Illustrative").all()
    assert all(name.startswith("Illustrative") for name in district.nofly["name"])
    area = district.boundary.to_crs(district.crs).area.sum()
    assert area / 1e6 == pytest.approx(519.5, abs=1.0)
    # jurisdictions tile the district
    jur = district.jurisdictions.to_crs(district.crs)
    assert jur.area.sum() == pytest.approx(area, rel=1e-6)
    core = district.priority.to_crs(district.crs)
    assert core.area.iloc[0] == pytest.approx(CORE_AREA_M2, rel=1e-3)
    assert cells["jurisdiction"].notna().all()
    assert set(cells["priority"]) == {"core", "standard", "low"}


def test_no_fly_zones_and_permits_lie_inside_the_district(demo: tuple) -> None:  # type: ignore[type-arg]
    district, _ = demo
    boundary = district.boundary.geometry.iloc[0]
    assert shapely.within(np.asarray(district.nofly.geometry.values), boundary).all()
    assert shapely.within(np.asarray(district.permits.geometry.values), boundary).all()


def test_nests_are_spread_inside_and_clear_of_no_fly_zones(demo: tuple) -> None:  # type: ignore[type-arg]
    district, cells = demo
    nests = place_nests(cells, district.nofly)
    assert [n.nest_id for n in nests] == [f"N{i:02d}" for i in range(1, 17)]
    pts = shapely.points([(n.lon, n.lat) for n in nests])
    assert shapely.within(pts, district.boundary.geometry.iloc[0]).all()
    assert not shapely.intersects(
        pts[:, None], np.asarray(district.nofly.geometry.values)[None, :]
    ).any()
    # deterministic
    assert place_nests(cells, district.nofly) == nests


def test_init_demo_is_idempotent(tmp_path: object) -> None:
    from pathlib import Path

    from missions.flows.demo import init_demo
    from missions.storage import load_cells, load_nests, make_engine

    engine = make_engine(f"sqlite:///{Path(str(tmp_path)) / 'demo.db'}")
    first = init_demo(engine, cell_size_m=500.0)
    second = init_demo(engine, cell_size_m=500.0)
    assert len(load_cells(engine)) == len(first.built.cells) == len(second.built.cells)
    assert load_nests(engine) == first.nests == second.nests
    engine.dispose()


def test_the_core_gets_nests_of_its_own_sized_by_its_demand(demo: tuple) -> None:  # type: ignore[type-arg]
    district, cells = demo
    nests = place_nests(cells, district.nofly)
    core = district.priority[district.priority["priority"] == "core"].geometry.iloc[0]
    inside = sum(bool(shapely.contains_xy(core, n.lon, n.lat)) for n in nests)
    # 12 km² every 2 h = 1,667 m²/s; one nest's ideal rate is 135 m × 12 m/s × 0.48 = 783 m²/s
    assert core_nest_count(CORE_AREA_M2 / 7200) == 3
    assert inside == 3


def test_core_nest_count_grows_with_the_core_and_is_at_least_one() -> None:
    assert core_nest_count(1e-3) == 1
    assert core_nest_count(4e6 / 7200) == 1
    assert core_nest_count(6e6 / 7200) == 2
    assert core_nest_count(40e6 / 7200) == 8
