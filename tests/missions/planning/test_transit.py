from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from missions.planning.errors import PlanningError
from missions.planning.transit import TransitPlanner, path_length_m


def _keep_out(seed: int) -> shapely.Geometry:
    rng = np.random.default_rng(seed)
    discs = [
        shapely.Point(rng.uniform(-2000, 2000), rng.uniform(-2000, 2000)).buffer(
            rng.uniform(100, 600), quad_segs=3
        )
        for _ in range(int(rng.integers(1, 6)))
    ]
    return shapely.union_all(discs)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_paths_never_enter_the_keep_out_and_are_no_shorter_than_straight(seed: int) -> None:
    ko = _keep_out(seed)
    tp = TransitPlanner(ko)
    a, b = (-3500.0, -3100.0), (3300.0, 3600.0)
    path = tp.path(a, b)
    assert path[0] == a
    assert path[-1] == b
    line = shapely.LineString(path)
    # it may run along the outline, never inside it
    assert not shapely.intersects(line, shapely.buffer(ko, -0.1))
    assert path_length_m(path) >= math.dist(a, b) - 1e-6
    d = tp.distances_from(a, np.array([b]))[0]
    assert d == pytest.approx(path_length_m(path), rel=1e-6)


def test_detour_around_a_wall_is_the_shortest_one() -> None:
    wall = shapely.box(-10, -1000, 10, 1000)
    tp = TransitPlanner(wall)
    path = tp.path((-500.0, 0.0), (500.0, 0.0))
    expected = 2 * math.hypot(490.0, 1000.0) + 20.0
    assert path_length_m(path) == pytest.approx(expected, rel=1e-6)


def test_clear_line_is_straight() -> None:
    tp = TransitPlanner(shapely.box(0, 0, 10, 10))
    assert tp.path((-100.0, 50.0), (100.0, 50.0)) == [(-100.0, 50.0), (100.0, 50.0)]


def test_end_inside_keep_out_is_an_error_that_says_what_to_do() -> None:
    tp = TransitPlanner(shapely.box(0, 0, 100, 100))
    with pytest.raises(PlanningError, match="move it out"):
        tp.path((-500.0, 50.0), (50.0, 50.0))
