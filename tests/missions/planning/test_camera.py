from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from missions.fleet import CameraSpec
from missions.planning.camera import (
    altitude_for_gsd_m,
    footprint_m,
    gsd_m,
    patrol_survey,
    swath_spacing_m,
    trigger_spacing_m,
)
from missions.planning.errors import PlanningError


@given(st.floats(min_value=5.0, max_value=500.0))
def test_gsd_and_altitude_are_inverse(altitude_m: float) -> None:
    cam = CameraSpec()
    assert altitude_for_gsd_m(cam, gsd_m(cam, altitude_m)) == pytest.approx(altitude_m)


@given(st.floats(min_value=5.0, max_value=500.0), st.floats(min_value=0.0, max_value=0.9))
def test_spacings_shrink_with_overlap(altitude_m: float, overlap: float) -> None:
    cam = CameraSpec()
    fp = footprint_m(cam, altitude_m)
    assert swath_spacing_m(cam, altitude_m, overlap) == pytest.approx(fp.across_m * (1 - overlap))
    assert trigger_spacing_m(cam, altitude_m, overlap) == pytest.approx(fp.along_m * (1 - overlap))
    # footprint in pixels times GSD is the footprint (per axis, up to non-square pixels)
    assert fp.across_m / cam.image_width_px <= gsd_m(cam, altitude_m) * (1 + 1e-9)


def test_patrol_defaults_meet_the_design_numbers() -> None:
    s = patrol_survey(CameraSpec())
    assert s.altitude_m <= 120.0
    assert 0.03 <= s.gsd_m <= 0.04
    assert s.swath_spacing_m == pytest.approx(s.footprint.across_m * 0.8)


def test_gsd_target_below_ceiling_is_met_exactly() -> None:
    s = patrol_survey(CameraSpec(), gsd_target_m=0.02)
    assert s.gsd_m == pytest.approx(0.02)
    assert s.altitude_m < 120.0


@pytest.mark.parametrize("overlap", [-0.1, 1.0, 1.5])
def test_bad_overlap_is_refused_with_a_fix(overlap: float) -> None:
    with pytest.raises(PlanningError, match="overlap must be in"):
        swath_spacing_m(CameraSpec(), 100.0, overlap)


def test_non_positive_altitude_is_refused() -> None:
    with pytest.raises(PlanningError, match="altitude must be positive"):
        gsd_m(CameraSpec(), 0.0)
