"""The georeferencing seam: pixel boxes of one image → ground polygons in WGS-84."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from shapely import Polygon

BoxXyxy = tuple[float, float, float, float]


class Georeferencer(Protocol):
    """Turns pixel boxes of one image into lon/lat polygons (RFC 7946 axis order).

    A box that cannot be placed on the ground (e.g. above the horizon in an oblique photo)
    maps to ``None`` rather than to a wrong place.
    """

    def boxes_to_polygons(self, boxes_xyxy_px: Sequence[BoxXyxy]) -> list[Polygon | None]:
        """One WGS-84 polygon (or ``None``) per box, in order."""
        ...
