"""Capture footprints: size from the camera and altitude, oriented along the heading."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from pyproj import CRS

from missions.fleet.profiles import CameraSpec
from missions.planning.camera import footprint_m
from missions.planning.frame import MetricFrame
from patrol.adapters.base import Capture
from patrol.footprints import capture_footprints

UTM = CRS.from_epsg(32649)
T = datetime(2026, 11, 24, 3, tzinfo=UTC)


@pytest.mark.parametrize("heading", [0.0, 37.0, 90.0, 200.0])
def test_footprint_is_the_camera_rectangle_around_the_pose(heading: float) -> None:
    cam = CameraSpec()
    (fp,) = capture_footprints([Capture(0, T, 113.39, 22.94, 100.0, heading)], cam, UTM)
    assert fp is not None
    frame = MetricFrame(UTM)
    xy = frame.to_metric(*np.array(fp.exterior.coords).T)
    expected = footprint_m(cam, 100.0)
    centre = frame.point(113.39, 22.94)
    assert np.allclose(xy[:-1].mean(axis=0), centre, atol=0.05)
    sides = np.linalg.norm(np.diff(xy, axis=0), axis=1)[:2]
    assert sorted(sides) == pytest.approx(sorted([expected.along_m, expected.across_m]), rel=1e-3)
    # the first side runs across track: perpendicular to the heading
    d = xy[1] - xy[0]
    h = np.radians(heading)
    assert abs(d[0] * np.sin(h) + d[1] * np.cos(h)) < 1e-3 * expected.across_m


def test_frames_on_the_ground_image_nothing() -> None:
    caps = [Capture(0, T, 113.39, 22.94, 0.2, 0.0), Capture(1, T, 113.39, 22.94, 50.0, 0.0)]
    fps = capture_footprints(caps, CameraSpec(), UTM)
    assert fps[0] is None
    assert fps[1] is not None
    assert capture_footprints([], CameraSpec(), UTM) == []
