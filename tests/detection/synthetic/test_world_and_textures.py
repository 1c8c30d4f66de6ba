"""Invariants of the metric world model and the world-anchored noise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from detection.classes import ViolationClass
from detection.errors import SceneError
from detection.synthetic.textures import fbm, value_noise
from detection.synthetic.world import (
    LABEL_OF_KIND,
    CameraWindow,
    ObjectKind,
    Sun,
    local_rect,
    oriented_rect,
)


@settings(max_examples=50, deadline=None)
@given(
    length_m=st.floats(0.5, 50),
    width_m=st.floats(0.5, 50),
    heading=st.floats(-math.pi, math.pi),
    cx=st.floats(-1e3, 1e3),
    cy=st.floats(-1e3, 1e3),
)
def test_oriented_rect_keeps_area_and_centre(
    length_m: float, width_m: float, heading: float, cx: float, cy: float
) -> None:
    rect = oriented_rect((cx, cy), length_m, width_m, heading)
    assert rect.area == pytest.approx(length_m * width_m, rel=1e-6)
    assert rect.centroid.x == pytest.approx(cx, abs=1e-6)
    assert rect.centroid.y == pytest.approx(cy, abs=1e-6)


def test_local_rect_runs_along_heading() -> None:
    # a 10 m part ahead of the centre, heading north: it must lie north of the centre
    part = local_rect((100.0, 200.0), math.pi / 2, (0.0, 10.0), (-0.5, 0.5))
    minx, miny, maxx, maxy = part.bounds
    assert miny == pytest.approx(200.0)
    assert maxy == pytest.approx(210.0)
    assert maxx - minx == pytest.approx(1.0)


def test_sun_shadow_points_away_from_sun() -> None:
    sun = Sun(azimuth_rad=0.0, elevation_rad=math.radians(45))  # sun due north
    dx, dy = sun.shadow_offset_m(10.0)
    assert dx == pytest.approx(0.0, abs=1e-9)
    assert dy == pytest.approx(-10.0)  # shadow falls south, as long as the height at 45°


@pytest.mark.parametrize("gsd_m", [0.0, -0.1, float("nan"), float("inf")])
def test_window_rejects_bad_gsd(gsd_m: float) -> None:
    with pytest.raises(SceneError, match="gsd_m"):
        CameraWindow(0.0, 0.0, 10, 10, gsd_m)


def test_window_rejects_absurd_size_and_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="too large"):
        CameraWindow(0.0, 0.0, 100_000, 100_000, 0.035)


def test_centered_window_covers_size_times_gsd() -> None:
    w = CameraWindow.centered(10.0, 20.0, 400, 0.05)
    assert w.max_x_m - w.min_x_m == pytest.approx(20.0)
    assert (w.min_x_m + w.max_x_m) / 2 == pytest.approx(10.0)
    assert (w.min_y_m + w.max_y_m) / 2 == pytest.approx(20.0)


def test_every_violation_class_has_a_kind() -> None:
    assert set(LABEL_OF_KIND.values()) == set(ViolationClass)
    assert LABEL_OF_KIND.get(ObjectKind.POOL) is None


def test_noise_depends_on_the_point_not_on_the_array() -> None:
    rng = np.random.default_rng(3)
    x = rng.uniform(-500, 500, 64).astype(np.float32)
    y = rng.uniform(-500, 500, 64).astype(np.float32)
    whole = fbm(x, y, 2.0, seed=11)
    parts = np.concatenate([fbm(x[:10], y[:10], 2.0, seed=11), fbm(x[10:], y[10:], 2.0, seed=11)])
    np.testing.assert_array_equal(whole, parts)
    assert not np.array_equal(whole, fbm(x, y, 2.0, seed=12))


def test_value_noise_range_and_smoothness() -> None:
    xs = np.linspace(0, 50, 5001, dtype=np.float32)
    v = value_noise(xs, np.zeros_like(xs), 1.0, seed=5)
    assert v.min() >= 0.0
    assert v.max() < 1.0
    # neighbours 1 cm apart differ little: the noise is continuous at its 1 m scale
    assert float(np.abs(np.diff(v)).max()) < 0.05
