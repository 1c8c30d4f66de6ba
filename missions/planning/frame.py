"""The metric planning frame: WGS-84 ↔ the district's UTM zone, at the edges of the planner."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from missions.geo.crs import WGS84

__all__ = ["MetricFrame"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class MetricFrame:
    """Converts lon/lat to planning metres and back (one cached transformer each way)."""

    crs: CRS
    _fwd: Transformer = field(init=False, repr=False, compare=False)
    _inv: Transformer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_fwd", Transformer.from_crs(WGS84, self.crs, always_xy=True))
        object.__setattr__(self, "_inv", Transformer.from_crs(self.crs, WGS84, always_xy=True))

    def to_metric(self, lon: object, lat: object) -> FloatArray:
        """Rows of (x, y) metres for the given longitudes and latitudes."""
        x, y = self._fwd.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        return np.column_stack([np.atleast_1d(x), np.atleast_1d(y)]).astype(float)

    def to_wgs84(self, xy: FloatArray) -> FloatArray:
        """Rows of (lon, lat) for rows of (x, y) metres."""
        xy = np.atleast_2d(np.asarray(xy, dtype=float))
        lon, lat = self._inv.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([np.atleast_1d(lon), np.atleast_1d(lat)]).astype(float)

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        xy = self.to_metric([lon], [lat])[0]
        return float(xy[0]), float(xy[1])
