"""Frames of the simulated world: views per block, consistent pixels, honest georeferencing."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer
from shapely import affinity

from detection.synthetic.world import ObjectKind
from patrol.sim.dynamics import Dynamics, Violation
from patrol.sim.render import MASK_GREY, View
from patrol.sim.world import Fidelity, SimWorld, build_world

UTM49N = CRS.from_epsg(32649)
START = datetime(2026, 5, 1, tzinfo=UTC)
GSD = 0.2
TO_WGS = Transformer.from_crs(UTM49N, 4326, always_xy=True)


def grid(n: int = 6) -> gpd.GeoDataFrame:
    """An n×n grid of 100 m cells near Panyu (WGS-84), all core."""
    x, y = Transformer.from_crs(4326, UTM49N, always_xy=True).transform(113.38, 22.94)
    x0, y0 = (x // 100) * 100, (y // 100) * 100
    geoms = [
        shapely.box(x0 + c * 100, y0 + r * 100, x0 + c * 100 + 100, y0 + r * 100 + 100)
        for r in range(n)
        for c in range(n)
    ]
    ids = [f"T-{c:03d}-{r:03d}" for r in range(n) for c in range(n)]
    return gpd.GeoDataFrame(
        {"cell_id": ids, "priority": "core", "jurisdiction": "J1"}, geometry=geoms, crs=UTM49N
    ).to_crs(4326)


# new sheds and frames only, on the ground, so a before/after pair isolates one object
SHEDS = Dynamics(
    new_structures_per_day=4.0,
    rooftop_fraction=0.0,
    preexisting_structures=0.0,
    dumping_per_day=0.0,
    muck_trucks_per_day=0.0,
    night_site_probability=0.0,
)
FIDELITY = Fidelity(render_gsd_m=GSD, blocks={"core": 3}, permit_blocks=0, cache_blocks=1)


def make(night_hours: tuple[time, time] = (time(22), time(6))) -> SimWorld:
    return build_world(
        grid(),
        crs=UTM49N,
        start=START,
        hours=24,
        seed=11,
        fidelity=FIDELITY,
        dynamics=SHEDS,
        night_hours=night_hours,
    )


@pytest.fixture(scope="module")
def world() -> SimWorld:
    return make()


@pytest.fixture(scope="module")
def always_night() -> SimWorld:
    """Every frame is a night frame: no sun shadows, so an object changes only its own pixels."""
    return make((time(0), time(23, 59, 59, 999999)))


def to_wgs(poly: shapely.Polygon) -> shapely.Polygon:
    return shapely.transform(poly, lambda xy: np.column_stack(TO_WGS.transform(xy[:, 0], xy[:, 1])))


def block_frame(world: SimWorld, block_id: str, margin_m: float = 5.0) -> shapely.Polygon:
    """A WGS-84 footprint covering the whole block with a margin."""
    block = next(b for b in world.blocks if b.block_id == block_id)
    return to_wgs(shapely.box(*block.bounds_m).buffer(margin_m, join_style="mitre"))


def appearing(world: SimWorld) -> Violation:
    """A shed that appears well inside the horizon, with a constant day/night state around it."""
    for v in world.violations:
        before, after = v.appears_at - timedelta(minutes=1), v.appears_at + timedelta(minutes=1)
        if v.kind is ObjectKind.STEEL_SHED and world.is_night(before) == world.is_night(after):
            return v
    raise AssertionError("no suitable shed in the test world; change the seed")


def one_view(world: SimWorld, v: Violation, t: datetime) -> View:
    views = world.views(block_frame(world, v.block_id), t)
    assert [x.block_id for x in views] == [v.block_id]
    return views[0]


def pixel_box(view: View, v: Violation) -> tuple[float, float, float, float]:
    """The object's footprint bbox in the view's continuous pixel coordinates."""
    minx, miny, maxx, maxy = v.object.footprint.bounds
    inv = ~view.transform
    c0, r0 = inv @ (minx, maxy)
    c1, r1 = inv @ (maxx, miny)
    return c0, r0, c1, r1


def test_view_covers_the_block_at_the_render_gsd(world: SimWorld) -> None:
    v = appearing(world)
    view = one_view(world, v, v.appears_at)
    assert view.image.dtype == np.uint8
    assert view.image.shape == (500, 500, 3)
    assert view.transform.a == pytest.approx(GSD)
    assert view.transform.e == pytest.approx(-GSD)
    assert view.crs == UTM49N
    assert view.taken_at == v.appears_at


def test_a_violation_shows_only_while_active(world: SimWorld) -> None:
    v = appearing(world)
    before = one_view(world, v, v.appears_at - timedelta(minutes=1)).image.astype(int)
    after = one_view(world, v, v.appears_at + timedelta(minutes=1)).image.astype(int)
    view = one_view(world, v, v.appears_at)
    c0, r0, c1, r1 = (round(p) for p in pixel_box(view, v))
    diff = np.abs(after - before).max(axis=2)
    inside = diff[r0:r1, c0:c1]
    assert (inside > 8).mean() > 0.5
    far = np.ones_like(diff, dtype=bool)
    far[max(r0 - 120, 0) : r1 + 120, max(c0 - 120, 0) : c1 + 120] = False  # object + shadow
    assert not diff[far].any()


def test_two_renders_of_one_pose_and_time_are_identical(world: SimWorld) -> None:
    v = appearing(world)
    t = v.appears_at + timedelta(hours=1)
    first = one_view(world, v, t).image
    other = next(b for b in world.blocks if b.block_id != v.block_id)
    world.views(block_frame(world, other.block_id), t)  # evicts the block (cache of one)
    second = one_view(world, v, t).image
    assert np.array_equal(first, second)
    again = make()  # a fresh world from the same seed draws the same pixels
    assert np.array_equal(first, one_view(again, v, t).image)


def test_repeated_pass_is_served_from_the_cache() -> None:
    w = make()
    v = appearing(w)
    t = v.appears_at + timedelta(hours=1)
    one_view(w, v, t)
    one_view(w, v, t + timedelta(minutes=5))
    info = w.cache_info()
    assert (info.misses, info.hits, info.size) == (1, 1, 1)
    assert info.hit_rate == 0.5


def test_views_are_copies_so_callers_cannot_spoil_the_cache(world: SimWorld) -> None:
    v = appearing(world)
    t = v.appears_at + timedelta(hours=2)
    view = one_view(world, v, t)
    view.image[...] = 0
    assert one_view(world, v, t).image.any()


def test_georeferencer_maps_the_violation_pixels_onto_its_footprint(always_night: SimWorld) -> None:
    v = appearing(always_night)
    t0, t1 = v.appears_at - timedelta(minutes=1), v.appears_at + timedelta(minutes=1)
    view = one_view(always_night, v, t1)
    diff = np.abs(view.image.astype(int) - one_view(always_night, v, t0).image.astype(int))
    rows, cols = np.nonzero(diff.max(axis=2) > 2)
    seen = (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
    assert np.allclose(seen, pixel_box(view, v), atol=2.0)
    (poly,) = view.georeferencer().boxes_to_polygons([seen])
    assert poly is not None
    expected = to_wgs(shapely.box(*v.object.footprint.bounds))
    to_m = Transformer.from_crs(4326, UTM49N, always_xy=True)
    got_m = shapely.transform(poly, lambda xy: np.column_stack(to_m.transform(xy[:, 0], xy[:, 1])))
    assert got_m.hausdorff_distance(shapely.box(*v.object.footprint.bounds)) <= 2 * GSD
    assert poly.intersection(expected).area / expected.area > 0.9


def test_pixels_outside_the_footprint_are_grey(world: SimWorld) -> None:
    v = appearing(world)
    block = next(b for b in world.blocks if b.block_id == v.block_id)
    cx, cy = (
        (block.bounds_m[0] + block.bounds_m[2]) / 2,
        (block.bounds_m[1] + block.bounds_m[3]) / 2,
    )
    half = 50 / np.sqrt(2)  # a diamond touching the block's edge midpoints: half of it inside
    diamond = affinity.rotate(shapely.box(cx - half, cy - half, cx + half, cy + half), 45)
    (view,) = world.views(to_wgs(diamond), v.appears_at)
    h, w = view.image.shape[:2]
    assert (h, w) == (500, 500)
    for r, c in ((0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1)):
        assert tuple(view.image[r, c]) == MASK_GREY
    grey = (view.image == MASK_GREY).all(axis=2).mean()
    assert 0.4 < grey < 0.6


def test_footprint_outside_all_blocks_gives_no_views(world: SimWorld) -> None:
    far = to_wgs(shapely.box(0, 0, 100, 100).buffer(0))  # the UTM origin, far from the grid
    assert world.blocks_touching(far) == []
    assert world.views(far, START) == []


def test_a_sliver_thinner_than_32_px_gives_no_view(world: SimWorld) -> None:
    block = world.blocks[0]
    x0, y0, _, y1 = block.bounds_m
    sliver = to_wgs(shapely.box(x0 - 4, y0, x0 + 4, y1))  # 20 px into each block it touches
    assert world.blocks_touching(sliver)
    assert world.views(sliver, START) == []


def test_night_frames_are_dark(world: SimWorld) -> None:
    v = appearing(world)
    frame = block_frame(world, v.block_id)
    noon, midnight = datetime(2026, 5, 1, 4, tzinfo=UTC), datetime(2026, 5, 1, 16, tzinfo=UTC)
    assert world.is_night(midnight)
    assert not world.is_night(noon)
    day = world.views(frame, noon)[0].image.mean()
    night = world.views(frame, midnight)[0].image.mean()
    assert night < day / 3
