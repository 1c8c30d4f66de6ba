"""Georeferencing for single drone photos: pinhole camera + ground model → WGS-84 polygons."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from shapely import Polygon

from detection.georef._types import BoxXyxy
from detection.georef.camera import Array, CameraModel
from detection.georef.ground import GroundModel


class PhotoGeoreferencer:
    """Projects box outlines through the camera onto the ground.

    Edges are densified (``edge_points`` per edge) because on a DEM, or with lens-centred
    oblique views over relief, a straight pixel edge is not a straight ground edge.
    A box with any outline point above the horizon or beyond ``max_range_m`` maps to None.
    """

    def __init__(
        self,
        camera: CameraModel,
        ground: GroundModel,
        *,
        max_range_m: float = 2000.0,
        edge_points: int = 3,
    ) -> None:
        self.camera = camera
        self.ground = ground
        self.max_range_m = max_range_m
        self.edge_points = max(2, edge_points)

    def pixels_to_ground(self, u_px: Array, v_px: Array) -> Array:
        """``(N, 3)`` lon, lat, height of the ground seen at each pixel (NaN where none)."""
        rays = self.camera.rays(np.asarray(u_px, float), np.asarray(v_px, float))
        local = self.ground.intersect(self.camera, rays, self.max_range_m)
        lon, lat = self.camera.local_to_lonlat(local[:, 0], local[:, 1])
        bad = ~np.isfinite(local).all(axis=1)
        lon[bad], lat[bad] = np.nan, np.nan
        return np.column_stack([lon, lat, local[:, 2]])

    def boxes_to_polygons(self, boxes_xyxy_px: Sequence[BoxXyxy]) -> list[Polygon | None]:
        """One WGS-84 polygon per box, or None when part of the box misses the ground."""
        if not boxes_xyxy_px:
            return []
        s = np.linspace(0.0, 1.0, self.edge_points)[:-1]
        b = np.asarray(boxes_xyxy_px, dtype=np.float64)
        x0, y0, x1, y1 = (b[:, k : k + 1] for k in range(4))
        us = np.hstack([x0 + (x1 - x0) * s, x1 + 0 * s, x1 - (x1 - x0) * s, x0 + 0 * s])
        vs = np.hstack([y0 + 0 * s, y0 + (y1 - y0) * s, y1 + 0 * s, y1 - (y1 - y0) * s])
        ground = self.pixels_to_ground(us.ravel(), vs.ravel()).reshape(*us.shape, 3)
        polygons: list[Polygon | None] = []
        for ring in ground:
            ok = np.isfinite(ring[:, :2]).all()
            polygons.append(Polygon(ring[:, :2]) if ok else None)
        return polygons
