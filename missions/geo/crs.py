"""Coordinate reference systems: WGS-84 storage, metric planning CRS, GCJ-02 at the edges.

GCJ-02 is the obfuscated datum of Chinese web maps. It is not an EPSG CRS: the forward
transform is the published polynomial, and the inverse here is iterative (fixed-point on the
forward transform), converging far below a millimetre. By the convention's definition, points
outside a rough box around mainland China are left unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import shapely
from numpy.typing import NDArray
from pyproj import CRS
from pyproj.exceptions import CRSError

from missions.errors import CrsError

__all__ = [
    "WGS84",
    "InputCrs",
    "gcj02_to_wgs84",
    "gcj02_to_wgs84_geoms",
    "out_of_china",
    "parse_input_crs",
    "utm_crs_for",
    "wgs84_to_gcj02",
    "wgs84_to_gcj02_geoms",
]

WGS84 = CRS.from_epsg(4326)

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 polynomial
_EE = 0.00669342162296594323  # its first eccentricity squared
_INVERSE_TOLERANCE_DEG = 1e-11
_INVERSE_MAX_ITER = 30

Array = NDArray[np.float64]
G = TypeVar("G", shapely.Geometry, NDArray[np.object_])


def out_of_china(lon: Array, lat: Array) -> NDArray[np.bool_]:
    """Where GCJ-02 defines no offset: outside the box the convention uses for mainland China."""
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _transform_lat(x: Array, y: Array) -> Array:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: Array, y: Array) -> Array:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _offset(lon: Array, lat: Array) -> tuple[Array, Array]:
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _as_arrays(lon: object, lat: object) -> tuple[Array, Array]:
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    if lon_a.shape != lat_a.shape:
        raise CrsError(
            f"longitude and latitude arrays differ in shape ({lon_a.shape} vs {lat_a.shape}); "
            "pass one longitude per latitude"
        )
    return lon_a, lat_a


def wgs84_to_gcj02(lon: object, lat: object) -> tuple[Array, Array]:
    """WGS-84 lon/lat (degrees, scalars or arrays) to GCJ-02."""
    lon_a, lat_a = _as_arrays(lon, lat)
    dlon, dlat = _offset(lon_a, lat_a)
    return lon_a + dlon, lat_a + dlat


def gcj02_to_wgs84(lon: object, lat: object) -> tuple[Array, Array]:
    """GCJ-02 lon/lat to WGS-84 by fixed-point iteration on the forward transform.

    The forward offset varies slowly (metres per kilometre), so each iteration gains several
    digits; a handful reach 1e-11 degrees (about a micrometre).
    """
    g_lon, g_lat = _as_arrays(lon, lat)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(_INVERSE_MAX_ITER):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = g_lon - f_lon, g_lat - f_lat
        w_lon, w_lat = w_lon + e_lon, w_lat + e_lat
        if (
            max(
                float(np.max(np.abs(e_lon), initial=0.0)), float(np.max(np.abs(e_lat), initial=0.0))
            )
            < _INVERSE_TOLERANCE_DEG
        ):
            break
    return w_lon, w_lat


def _geoms_via(func: object, geoms: G) -> G:
    def apply(coords: Array) -> Array:
        x, y = func(coords[:, 0], coords[:, 1])  # type: ignore[operator]
        return np.column_stack([x, y])

    return shapely.transform(geoms, apply)


def gcj02_to_wgs84_geoms(geoms: G) -> G:
    """GCJ-02 geometry (or array of geometries) to WGS-84."""
    return _geoms_via(gcj02_to_wgs84, geoms)


def wgs84_to_gcj02_geoms(geoms: G) -> G:
    """WGS-84 geometry (or array of geometries) to GCJ-02, for Chinese web maps."""
    return _geoms_via(wgs84_to_gcj02, geoms)


def utm_crs_for(lon: float, lat: float) -> CRS:
    """The UTM zone (WGS-84 datum) containing a point: the metric CRS we plan in."""
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise CrsError(
            f"point ({lon}, {lat}) is not a WGS-84 lon/lat; pass longitude first, in degrees"
        )
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


@dataclass(frozen=True)
class InputCrs:
    """The CRS a file's coordinates are in. ``gcj02`` files are lon/lat in GCJ-02."""

    crs: CRS
    gcj02: bool = False

    @property
    def label(self) -> str:
        return "GCJ-02" if self.gcj02 else str(self.crs.to_string())


def parse_input_crs(text: str) -> InputCrs:
    """Parse ``gcj02``, ``wgs84``, ``EPSG:n`` or any CRS string pyproj understands."""
    key = text.strip().lower().replace("-", "").replace("_", "")
    if key == "gcj02":
        return InputCrs(WGS84, gcj02=True)
    if key in {"wgs84", "epsg4326"}:
        return InputCrs(WGS84)
    try:
        return InputCrs(CRS.from_user_input(text.strip()))
    except CRSError as e:
        raise CrsError(
            f"unknown CRS {text!r}; use 'gcj02', 'wgs84', 'EPSG:<code>' (e.g. EPSG:32649) "
            "or a PROJ/WKT string"
        ) from e
