from __future__ import annotations

import math
import random
from dataclasses import replace

import numpy as np
import pytest
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st

from missions.planning.coverage import (
    SweepCost,
    best_sweep_angle,
    order_points_2opt,
    plan_coverage,
    sweep_time_s,
)
from missions.planning.errors import PlanningError
from missions.planning.transit import XY

from .conftest import cell_blob, random_polygon

COST = SweepCost(swath_spacing_m=135.0, speed_mps=12.0, turn_time_s=6.0)
# the default camera at 120 m: 168.9 × 126.9 m images, 20 % side and front overlap
ALONG_M, TRIGGER_M = 126.93, 101.55
AWARE = replace(
    COST, footprint_across_m=168.92, footprint_along_m=ALONG_M, trigger_spacing_m=TRIGGER_M
)
# Not strict: the search samples every line-count piece (whose ends are known in closed form),
# but inside a piece the cost still jumps where a line needs one photo fewer or the blocks
# split, at angles with no closed form, and near a long edge's direction it changes by ~1 %
# within 0.05°; a random angle can land in a sliver between samples. Measured over 150 seeded
# examples: at most 0.08 % better (camera-blind), 0.02 % (camera-aware).
TOLERANCE = 0.005


def _imaged(area: shapely.Geometry, lines: tuple[tuple[tuple[float, float], ...], ...]) -> float:
    """Fraction of ``area`` inside the swath bands (spacing wide) around the survey lines."""
    bands = shapely.union_all(
        [
            shapely.buffer(shapely.LineString(ln), COST.swath_spacing_m / 2 + 0.5, cap_style="flat")
            for ln in lines
        ]
    )
    return float(shapely.area(shapely.intersection(area, bands)) / shapely.area(area))


def _frames_imaged(area: shapely.Geometry, lines: tuple[tuple[XY, XY], ...]) -> float:
    """Fraction of ``area`` inside the photos: one at each line start, then every trigger."""
    frames = []
    for a, b in lines:
        d = np.subtract(b, a)
        n = float(np.hypot(*d))
        u = d / n if n > 0 else np.array([1.0, 0.0])
        v = np.array([-u[1], u[0]])
        for off in np.arange(0.0, n + 1e-6, TRIGGER_M):
            c = np.asarray(a) + off * u
            h, w = u * ALONG_M / 2, v * AWARE.across_m / 2
            frames.append(shapely.Polygon([c - h - w, c + h - w, c + h + w, c - h + w]))
    seen = shapely.union_all(frames)
    return float(shapely.area(shapely.intersection(area, seen)) / shapely.area(area))


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 10_000), st.integers(20, 200), st.booleans(), st.booleans())
@example(seed=7365, n=20, star=True, aware=False)  # a 0.75° valley the best samples missed
@example(seed=1309, n=20, star=True, aware=False)  # a valley beyond the best refined range
def test_chosen_angle_is_no_worse_than_100_random_angles(
    seed: int, n: int, star: bool, aware: bool
) -> None:
    area = random_polygon(seed, 10) if star else cell_blob(seed, n)
    cost = AWARE if aware else COST
    best = best_sweep_angle(area, cost=cost)
    best_cost = sweep_time_s(area, best, cost=cost)
    rng = random.Random(seed)
    for _ in range(100):
        other = sweep_time_s(area, rng.uniform(0.0, math.pi), cost=cost)
        assert best_cost <= other * (1 + TOLERANCE)


@pytest.mark.xfail(
    strict=True,
    reason="known weakness: a 0.15° window (142.56–142.72°) inside one line-count piece where "
    "the cost drops 3 %; no sample or refinement lands in it (found by a scan of 1,700 random "
    "polygons; the search would need the angles where the block structure changes)",
)
def test_known_narrow_valley_inside_a_piece_is_missed() -> None:
    area = random_polygon(8796, 10)
    best = best_sweep_angle(area, cost=COST)
    inside = math.radians(142.65)
    assert sweep_time_s(area, best, cost=COST) <= sweep_time_s(area, inside, cost=COST)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 250), st.booleans())
def test_camera_aware_path_images_every_point_with_the_photos_it_takes(
    seed: int, n: int, star: bool
) -> None:
    area = random_polygon(seed, 9) if star else cell_blob(seed, n)
    path = plan_coverage(area, cost=AWARE, start=(-1000.0, -1000.0))
    assert _frames_imaged(area, path.lines) > 1 - 1e-9


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 250), st.booleans())
def test_path_from_the_search_batch_is_the_path_swept_at_its_angle(
    seed: int, n: int, aware: bool
) -> None:
    area = cell_blob(seed, n)
    cost = AWARE if aware else COST
    found = plan_coverage(area, cost=cost, start=(-1000.0, -1000.0))
    again = plan_coverage(area, cost=cost, start=(-1000.0, -1000.0), angle_rad=found.angle_rad)
    assert len(found.lines) == len(again.lines)
    assert np.allclose(np.array(found.lines), np.array(again.lines), rtol=0, atol=1e-6)


def test_an_area_narrower_than_one_image_is_one_short_line() -> None:
    # one 100 m cell: every width is under the 168.9 m image, so no line-count break exists
    path = plan_coverage(shapely.box(0, 0, 100, 100), cost=AWARE, start=(0.0, 0.0))
    assert len(path.lines) == 1
    assert math.dist(*path.lines[0]) == pytest.approx(1.0)  # one photo, the trigger margin
    assert _frames_imaged(shapely.box(0, 0, 100, 100), path.lines) > 1 - 1e-9


def test_camera_aware_path_is_shorter_than_camera_blind() -> None:
    area = shapely.box(0, 0, 1200, 830)
    blind = plan_coverage(area, cost=COST, start=(0.0, 0.0), angle_rad=0.0)
    aware = plan_coverage(area, cost=AWARE, start=(0.0, 0.0), angle_rad=0.0)
    # 830 m across: ceil(830 / 135) = 7 spacing-wide bands; images 168.9 m wide need only
    # ceil((830 - 168.9) / 135) + 1 = 6 lines
    assert (len(blind.lines), len(aware.lines)) == (7, 6)
    # 1200 m along: 12 photos 101.55 m apart (11 gaps) image 1117 + 127 m ≥ 1200 m + 1 m margin;
    # the line runs from the first photo to 0.5 % (odometry tolerance) + 1 m past the last
    assert {round(math.dist(a, b), 2) for a, b in aware.lines} == {1123.64}
    assert {round(math.dist(a, b), 2) for a, b in blind.lines} == {1200.0}


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 250))
def test_path_images_the_whole_area(seed: int, n: int) -> None:
    area = cell_blob(seed, n)
    path = plan_coverage(area, cost=COST, start=(-1000.0, -1000.0))
    assert _imaged(area, path.lines) > 0.995


@pytest.mark.parametrize("aware", [False, True])
def test_holes_and_disjoint_parts_are_covered_and_holes_not_surveyed(aware: bool) -> None:
    outer = shapely.box(0, 0, 2000, 1200)
    hole = shapely.box(700, 400, 1300, 800)
    island = shapely.box(3000, 0, 3400, 400)
    area = shapely.union(shapely.difference(outer, hole), island)
    path = plan_coverage(area, cost=AWARE if aware else COST, start=(0.0, -500.0), keep_out=hole)
    if aware:
        assert _frames_imaged(area, path.lines) > 1 - 1e-9
    else:
        assert _imaged(area, path.lines) > 0.995
    for a, b in path.lines:
        assert not shapely.intersects(shapely.LineString([a, b]), shapely.buffer(hole, -1.0))


def test_elongated_field_is_swept_along_its_length() -> None:
    area = shapely.affinity.rotate(shapely.box(0, 0, 3000, 300), 30, origin=(0, 0))
    angle = best_sweep_angle(area, cost=COST)
    assert math.degrees(angle) == pytest.approx(30.0, abs=1.0)


def test_two_opt_beats_or_equals_nearest_neighbour_tour() -> None:
    rng = np.random.default_rng(3)
    pts = rng.uniform(0, 5000, (25, 2))
    order = order_points_2opt(pts, (0.0, 0.0), (0.0, 0.0))
    assert sorted(order) == list(range(25))
    tour = np.vstack([[0, 0], pts[order], [0, 0]])
    length = float(np.sum(np.hypot(*np.diff(tour, axis=0).T)))
    ident = np.vstack([[0, 0], pts, [0, 0]])
    assert length <= float(np.sum(np.hypot(*np.diff(ident, axis=0).T)))


def test_empty_area_is_refused() -> None:
    with pytest.raises(PlanningError, match="empty"):
        plan_coverage(shapely.Polygon(), cost=COST, start=(0.0, 0.0))
