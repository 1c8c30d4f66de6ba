"""The simulated world: block sampling, and violations that come and go over time."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import combinations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer
from scipy.stats import chisquare

from detection.synthetic.world import ObjectKind
from patrol.sim.dynamics import Dynamics, NightHours, SimWorldError
from patrol.sim.world import Fidelity, SimWorld, build_world, sample_blocks

UTM49N = CRS.from_epsg(32649)
START = datetime(2026, 5, 1, tzinfo=UTC)
CLASSES = ("core", "standard", "low")


def grid(n: int = 10) -> tuple[gpd.GeoDataFrame, tuple[float, float]]:
    """An n×n grid of 100 m cells near Panyu (WGS-84), priorities cycling core/standard/low."""
    x, y = Transformer.from_crs(4326, UTM49N, always_xy=True).transform(113.38, 22.94)
    x0, y0 = (x // 100) * 100, (y // 100) * 100
    rows, geoms = [], []
    for r in range(n):
        for c in range(n):
            geoms.append(
                shapely.box(x0 + c * 100, y0 + r * 100, x0 + c * 100 + 100, y0 + r * 100 + 100)
            )
            rows.append(
                {
                    "cell_id": f"T-{c:03d}-{r:03d}",
                    "priority": CLASSES[(r * n + c) % 3],
                    "jurisdiction": f"J{r // 5}",
                }
            )
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=UTM49N).to_crs(4326), (x0, y0)


CELLS, ORIGIN = grid()
PERMIT = shapely.box(ORIGIN[0] + 230, ORIGIN[1] + 430, ORIGIN[0] + 370, ORIGIN[1] + 570)
PERMITS = gpd.GeoDataFrame({"kind": ["construction"]}, geometry=[PERMIT], crs=UTM49N).to_crs(4326)
FIDELITY = Fidelity(render_gsd_m=0.2, blocks={"core": 4, "standard": 3, "low": 2}, permit_blocks=1)
BUSY = Dynamics(
    new_structures_per_day=1.0,
    preexisting_structures=0.5,
    dumping_per_day=4.0,
    muck_trucks_per_day=3.0,
    night_site_probability=0.5,
    legal_machines_per_permit=3.0,
)


@pytest.fixture(scope="module")
def world() -> SimWorld:
    return build_world(
        CELLS,
        crs=UTM49N,
        start=START,
        hours=72,
        seed=7,
        fidelity=FIDELITY,
        dynamics=BUSY,
        permits=PERMITS,
    )


def test_each_class_gets_its_count_of_distinct_blocks_of_that_class(world: SimWorld) -> None:
    reasons = Counter(b.reason for b in world.blocks)
    assert reasons == {"core": 4, "standard": 3, "low": 2, "permit": 1}
    assert len({b.cell_id for b in world.blocks}) == len(world.blocks)
    priority = dict(zip(CELLS["cell_id"], CELLS["priority"], strict=True))
    assert all(b.priority == priority[b.cell_id] for b in world.blocks)
    assert all(b.reason in ("permit", b.priority) for b in world.blocks)
    assert world.simulated_area_km2 == pytest.approx(0.10)


def test_block_is_its_cell_square() -> None:
    blocks = sample_blocks(CELLS, crs=UTM49N, seed=3, fidelity=FIDELITY)
    metric = CELLS.set_index("cell_id").to_crs(UTM49N).geometry
    for b in blocks:
        assert shapely.box(*b.bounds_m).symmetric_difference(metric[b.cell_id]).area < 1.0
        assert b.polygon.buffer(1e-6).contains(CELLS.set_index("cell_id").geometry[b.cell_id])


def test_no_fly_cells_are_never_sampled() -> None:
    core = sorted(CELLS.loc[CELLS["priority"] == "core", "cell_id"])
    banned = set(core[::2])
    cells = CELLS.assign(no_fly=CELLS["cell_id"].isin(banned))
    fid = Fidelity(blocks={"core": 10}, permit_blocks=0)
    for seed in range(20):
        picked = {b.cell_id for b in sample_blocks(cells, crs=UTM49N, seed=seed, fidelity=fid)}
        assert len(picked) == 10
        assert not picked & banned


def test_blocks_are_uniform_within_each_class() -> None:
    fid = Fidelity(blocks={"core": 3}, permit_blocks=0)
    core = sorted(CELLS.loc[CELLS["priority"] == "core", "cell_id"])
    counts = Counter(
        b.cell_id
        for seed in range(400)
        for b in sample_blocks(CELLS, crs=UTM49N, seed=seed, fidelity=fid)
    )
    assert set(counts) <= set(core)
    observed = np.array([counts[c] for c in core])
    assert observed.sum() == 1200
    assert chisquare(observed).pvalue > 1e-3


def test_blocks_depend_on_seed_not_on_dynamics_or_row_order(world: SimWorld) -> None:
    calm = build_world(
        CELLS.iloc[::-1],
        crs=UTM49N,
        start=START,
        hours=72,
        seed=7,
        fidelity=FIDELITY,
        dynamics=Dynamics(new_structures_per_day=0, dumping_per_day=9, night_site_probability=1),
        permits=PERMITS,
    )
    assert [b.block_id for b in calm.blocks] == [b.block_id for b in world.blocks]
    other = sample_blocks(CELLS, crs=UTM49N, seed=8, fidelity=FIDELITY, permits=PERMITS)
    assert {b.block_id for b in other} != {b.block_id for b in world.blocks}


def test_same_seed_same_ground_truth(world: SimWorld) -> None:
    again = build_world(
        CELLS,
        crs=UTM49N,
        start=START,
        hours=72,
        seed=7,
        fidelity=FIDELITY,
        dynamics=BUSY,
        permits=PERMITS,
    )
    key = [
        (v.violation_id, v.kind, v.appears_at, v.disappears_at, v.footprint.wkb)
        for v in world.violations
    ]
    assert key == [
        (v.violation_id, v.kind, v.appears_at, v.disappears_at, v.footprint.wkb)
        for v in again.violations
    ]


def test_violations_lie_inside_their_blocks_and_do_not_overlap(world: SimWorld) -> None:
    blocks = {b.block_id: b for b in world.blocks}
    assert len(world.violations) > 40
    for v in world.violations:
        block = blocks[v.block_id]
        assert shapely.box(*block.bounds_m).contains(v.object.footprint)
        assert block.polygon.buffer(1e-7).contains(v.footprint)
        assert (v.cell_id, v.priority, v.label) == (block.cell_id, block.priority, v.object.label)
    for block in world.blocks:
        own = world.truth(block.block_id)
        for a, b in combinations(own, 2):
            assert not a.object.footprint.intersects(b.object.footprint), (
                a.violation_id,
                b.violation_id,
            )


def test_violations_keep_clear_of_buildings_unless_on_a_roof(world: SimWorld) -> None:
    for scene in (world.scene(b.block_id) for b in world.blocks):
        buildings = [o.footprint for o in scene.background.roofs]
        for v, local in scene.violations:
            overlaps = any(local.footprint.intersects(b) for b in buildings)
            assert not overlaps or (v.kind is ObjectKind.STEEL_SHED and local.base_m > 0)


def test_dumping_mostly_at_night_and_cleared_within_two_days(world: SimWorld) -> None:
    dumped = [v for v in world.violations if v.kind is ObjectKind.WASTE_PILE and not v.legal]
    assert len(dumped) >= 40
    night_share = np.mean([world.is_night(v.appears_at) for v in dumped])
    assert 0.6 <= night_share <= 0.9
    for v in dumped:
        assert v.disappears_at is not None
        assert timedelta(hours=6) <= v.disappears_at - v.appears_at <= timedelta(hours=48)
        assert START <= v.appears_at < world.end


def test_structures_stay_and_some_predate_the_start(world: SimWorld) -> None:
    built = [
        v for v in world.violations if v.kind in (ObjectKind.STEEL_SHED, ObjectKind.BUILDING_FRAME)
    ]
    assert all(v.disappears_at is None for v in built)
    assert any(v.preexisting and v.appears_at < START for v in built)
    assert all(v.active_at(world.end + timedelta(days=30)) for v in built)
    assert all(v.preexisting == (v.appears_at < START) for v in built)


def test_muck_trucks_are_transient(world: SimWorld) -> None:
    trucks = [v for v in world.violations if v.kind is ObjectKind.MUCK_TRUCK]
    assert trucks
    for v in trucks:
        assert v.disappears_at is not None
        assert timedelta(minutes=30) <= v.disappears_at - v.appears_at <= timedelta(hours=3)


def test_a_muck_truck_is_a_violation_only_when_its_stop_meets_night_hours(
    world: SimWorld,
) -> None:
    trucks = [v for v in world.violations if v.kind is ObjectKind.MUCK_TRUCK]
    assert {v.legal for v in trucks} == {True, False}  # BUSY has both on three days
    for v in trucks:
        assert v.disappears_at is not None
        # every minute of the stay and its last instant: a night part shorter than a minute
        # lies at one end of it
        stay = [v.appears_at + timedelta(minutes=m) for m in range(0, 181)]
        stay = [t for t in stay if t < v.disappears_at] + [
            v.disappears_at - timedelta(seconds=1e-3)
        ]
        at_night = any(world.is_night(t) for t in stay)
        assert v.legal == (not at_night)
        assert (v.day_only, v.night_only) == (False, False)  # there all its stay, lit or not


def test_night_hours_met_by_a_stay() -> None:
    night = NightHours()  # 22:00–06:00 Shanghai = 14:00–22:00 UTC
    at = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)  # 20:00 local
    assert not night.meets(at, at + timedelta(hours=2))  # leaves at 22:00 sharp
    assert night.meets(at, at + timedelta(hours=2, minutes=1))
    assert night.meets(at + timedelta(hours=9), at + timedelta(hours=9, minutes=5))  # 05:00
    morning = datetime(2026, 5, 1, 22, 0, tzinfo=UTC)  # 06:00 local: the night just ended
    assert not night.meets(morning, morning + timedelta(hours=15, minutes=59))
    assert night.meets(morning, morning + timedelta(hours=16, minutes=1))


def test_night_construction_is_lit_and_active_only_at_night(world: SimWorld) -> None:
    sites = [v for v in world.violations if v.night_only and not v.legal]
    assert sites
    hours = [START + timedelta(minutes=20 * k) for k in range(3 * 72)]
    for v in sites:
        assert v.object.lit
        assert v.label.value == "construction_machinery"
        seen = [v.active_at(t) for t in hours]
        assert seen == [world.is_night(t) for t in hours]


def test_legal_machinery_only_inside_permits_and_only_by_day(world: SimWorld) -> None:
    legal = [v for v in world.violations if v.legal and v.kind is not ObjectKind.MUCK_TRUCK]
    assert legal
    permit_wgs = PERMITS.geometry.iloc[0].buffer(1e-7)
    noon, midnight = datetime(2026, 5, 2, 4, tzinfo=UTC), datetime(2026, 5, 2, 16, tzinfo=UTC)
    for v in legal:
        assert permit_wgs.contains(v.footprint)
        assert v.day_only
        assert v.active_at(noon)
        assert not v.active_at(midnight)
    assert not any(v.day_only for v in world.violations if not v.legal)
    assert all(
        v.day_only for v in world.violations if v.legal and v.kind is not ObjectKind.MUCK_TRUCK
    )


def test_expired_permits_make_nothing_legal() -> None:
    expired = PERMITS.assign(
        valid_from=datetime(2020, 1, 1, tzinfo=UTC), valid_to=datetime(2021, 1, 1, tzinfo=UTC)
    )
    w = build_world(
        CELLS,
        crs=UTM49N,
        start=START,
        hours=24,
        seed=7,
        fidelity=FIDELITY,
        dynamics=BUSY,
        permits=expired,
    )
    assert not any(v.legal for v in w.violations if v.kind is not ObjectKind.MUCK_TRUCK)
    assert all(b.reason != "permit" for b in w.blocks)


def test_night_hours_follow_the_local_clock() -> None:
    night = NightHours()
    assert night.contains(datetime(2026, 5, 1, 14, 30, tzinfo=UTC))  # 22:30 in Shanghai
    assert not night.contains(datetime(2026, 5, 1, 22, 0, tzinfo=UTC))  # 06:00 in Shanghai
    with pytest.raises(SimWorldError, match="no timezone"):
        night.contains(datetime(2026, 5, 1, 12))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Fidelity(blocks={"cor": 1}), "unknown priority classes"),
        (lambda: Fidelity(render_gsd_m=0), "render_gsd_m"),
        (lambda: Dynamics(dumping_per_day=-1.0), "≥ 0"),
        (lambda: Dynamics(muck_truck_stay_h=(3.0, 1.0)), "low ≤ high"),
        (
            lambda: build_world(CELLS, crs=UTM49N, start=datetime(2026, 5, 1), hours=1, seed=1),
            "aware start",
        ),
        (
            lambda: build_world(
                CELLS.drop(columns="priority"), crs=UTM49N, start=START, hours=1, seed=1
            ),
            "load_cells",
        ),
    ],
)
def test_bad_input_names_the_fix(make: object, match: str) -> None:
    with pytest.raises(SimWorldError, match=match):
        make()  # type: ignore[operator]


def test_describe_states_the_fidelity(world: SimWorld) -> None:
    d = world.describe()
    assert d["render_gsd_m"] == 0.2
    assert d["blocks"] == 10
    assert d["violations"] == len(world.violations)
    assert "independent of content" in str(d["block_selection"])
