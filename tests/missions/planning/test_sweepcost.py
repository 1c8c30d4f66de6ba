from __future__ import annotations

import math

import numpy as np
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st

from missions.planning.swaths import area_edges
from missions.planning.sweepcost import (
    ODOMETRY_TOLERANCE,
    TRIGGER_MARGIN_M,
    SweepCost,
    flown_extent,
    line_count_breaks,
    sweep_arrays,
    sweep_batch,
)

from .conftest import cell_blob, random_polygon

AWARE = SweepCost(
    swath_spacing_m=135.0,
    speed_mps=12.0,
    turn_time_s=6.0,
    footprint_across_m=168.92,
    footprint_along_m=126.93,
    trigger_spacing_m=101.55,
)


@settings(max_examples=200, deadline=None)
@given(st.floats(-5000, 5000), st.floats(0.0, 3000.0), st.booleans())
@example(x0=0.0, length=2855.0, backwards=False)  # cut to the interval, it lost the far end
def test_photos_of_the_flown_line_image_the_whole_interval(
    x0: float, length: float, backwards: bool
) -> None:
    f0, f1 = (float(v[0]) for v in flown_extent(np.array([x0]), np.array([x0 + length]), AWARE))
    past = ODOMETRY_TOLERANCE * length + TRIGGER_MARGIN_M  # at most this past either end
    assert x0 - past <= f0 <= f1 <= x0 + length + past
    start, sign = (f1, -1.0) if backwards else (f0, 1.0)
    half = AWARE.footprint_along_m / 2
    for stretch in (1.0, 1.0 + ODOMETRY_TOLERANCE):  # a drone reading distances long fires later
        offsets = np.arange(0.0, f1 - f0 + 1e-6, AWARE.trigger_spacing_m * stretch)
        photos = start + sign * offsets
        if length > AWARE.footprint_along_m - TRIGGER_MARGIN_M:  # else: one photo
            assert photos.min() - half <= x0 + 1e-6
            assert photos.max() + half >= x0 + length - 1e-6
        assert np.all(np.diff(np.sort(photos)) <= AWARE.footprint_along_m)


def test_camera_blind_cost_flies_lines_edge_to_edge() -> None:
    blind = SweepCost(swath_spacing_m=135.0, speed_mps=12.0, turn_time_s=6.0)
    x0, x1 = np.array([0.0, 10.0]), np.array([500.0, 20.0])
    f0, f1 = flown_extent(x0, x1, blind)
    assert np.array_equal(f0, x0)
    assert np.array_equal(f1, x1)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(20, 200), st.booleans())
def test_line_count_is_constant_between_its_breaks(seed: int, n: int, star: bool) -> None:
    area = random_polygon(seed, 10) if star else cell_blob(seed, n)
    breaks = line_count_breaks(shapely.get_coordinates(shapely.convex_hull(area)), AWARE)
    assert breaks[0] == 0.0
    assert breaks[-1] == math.pi
    inside = np.linspace(0.02, 0.98, 7)
    angles = (breaks[:-1, None] + (breaks[1:] - breaks[:-1])[:, None] * inside).ravel()
    c = shapely.centroid(area)
    *_, count = sweep_arrays(area_edges(area), (c.x, c.y), angles, 135.0, AWARE.across_m)
    per_piece = count.reshape(len(breaks) - 1, len(inside))
    assert np.all(per_piece == per_piece[:, :1])


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 250), st.booleans())
def test_a_batch_holds_for_each_angle_the_lines_of_a_sweep_at_that_angle(
    seed: int, n: int, star: bool
) -> None:
    area = random_polygon(seed, 10) if star else cell_blob(seed, n)
    edges, c = area_edges(area), shapely.centroid(area)
    angles = np.linspace(0.01, math.pi - 0.01, 9)
    batch = sweep_batch(edges, (c.x, c.y), angles, AWARE)
    assert batch is not None
    for i, angle in enumerate(angles):
        g, x0, x1, ys, count = sweep_arrays(
            edges, (c.x, c.y), np.array([angle]), 135.0, AWARE.across_m
        )
        k, b0, b1, bys = batch.lines_of(i)
        assert np.array_equal(k, g)
        assert np.allclose(b0, x0, rtol=0, atol=1e-6)
        assert np.allclose(b1, x1, rtol=0, atol=1e-6)
        assert np.allclose(bys, ys[0, : int(count[0])], rtol=0, atol=1e-9)
