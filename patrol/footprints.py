"""Ground footprints of captured frames: the rectangle a nadir camera saw at its pose.

The long sensor side lies across the direction of travel (as the planner flies it), so a frame
of heading ``h`` is ``across_m`` wide perpendicular to ``h`` and ``along_m`` long along it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from pyproj import CRS

from missions.fleet.profiles import CameraSpec
from missions.planning.camera import footprint_m
from missions.planning.frame import MetricFrame
from patrol.adapters.base import Capture

__all__ = ["capture_footprints"]

_MIN_ALT_M = 1.0  # frames taken on the ground see nothing worth counting


def capture_footprints(
    captures: Sequence[Capture], camera: CameraSpec, crs: CRS
) -> list[shapely.Polygon | None]:
    """WGS-84 footprint per capture (``None`` for a frame taken below 1 m: nothing imaged)."""
    if not captures:
        return []
    frame = MetricFrame(crs)
    lon = np.array([c.lon for c in captures])
    lat = np.array([c.lat for c in captures])
    xy = frame.to_metric(lon, lat)
    out: list[shapely.Polygon | None] = []
    for (x, y), cap in zip(xy, captures, strict=True):
        if cap.alt_m < _MIN_ALT_M:
            out.append(None)
            continue
        fp = footprint_m(camera, cap.alt_m)
        h = np.radians(cap.heading_deg)
        along = np.array([np.sin(h), np.cos(h)])  # unit vector of travel (x east, y north)
        across = np.array([np.cos(h), -np.sin(h)])
        a, c = along * fp.along_m / 2, across * fp.across_m / 2
        corners = np.array([[x, y]]) + np.array([a + c, a - c, -a - c, -a + c])
        ring = frame.to_wgs84(corners)
        out.append(shapely.Polygon(ring))
    return out
