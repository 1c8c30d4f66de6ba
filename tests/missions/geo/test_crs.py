from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import Geod

from missions.errors import CrsError
from missions.geo.crs import (
    gcj02_to_wgs84,
    gcj02_to_wgs84_geoms,
    parse_input_crs,
    utm_crs_for,
    wgs84_to_gcj02,
    wgs84_to_gcj02_geoms,
)

GEOD = Geod(ellps="WGS84")

# Published test vectors of the GCJ-02 polynomial (lat, lon WGS-84 → lat, lon GCJ-02), as used by
# the widely copied eviltransform test-suite.
VECTORS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]


@pytest.mark.parametrize(("lat", "lon", "glat", "glon"), VECTORS)
def test_forward_matches_published_vectors(
    lat: float, lon: float, glat: float, glon: float
) -> None:
    x, y = wgs84_to_gcj02(lon, lat)
    assert float(x) == pytest.approx(glon, abs=1e-9)
    assert float(y) == pytest.approx(glat, abs=1e-9)


def test_round_trip_below_a_centimetre_across_mainland_china() -> None:
    lon, lat = np.meshgrid(np.linspace(73.7, 134.7, 120), np.linspace(18.2, 53.5, 80))
    lon, lat = lon.ravel(), lat.ravel()
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    back_lon, back_lat = gcj02_to_wgs84(g_lon, g_lat)
    _, _, dist = GEOD.inv(lon, lat, back_lon, back_lat)
    assert np.max(dist) < 0.01
    # and the offset itself is real (hundreds of metres), so the test is not vacuous
    _, _, offset = GEOD.inv(lon, lat, g_lon, g_lat)
    assert np.median(offset) > 100


@pytest.mark.parametrize(
    ("lon", "lat"), [(2.35, 48.85), (-74.0, 40.7), (139.7, 35.7), (100.5, 0.5)]
)
def test_outside_china_is_unchanged(lon: float, lat: float) -> None:
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert gcj02_to_wgs84(lon, lat) == (lon, lat)


def test_geometry_round_trip_keeps_shape() -> None:
    poly = shapely.box(113.3, 22.9, 113.4, 23.0)
    back = gcj02_to_wgs84_geoms(wgs84_to_gcj02_geoms(poly))
    assert shapely.hausdorff_distance(poly, back) < 1e-9
    assert not shapely.equals_exact(poly, wgs84_to_gcj02_geoms(poly), tolerance=1e-5)


def test_utm_zone_from_centroid() -> None:
    assert utm_crs_for(113.36, 22.94).to_epsg() == 32649
    assert utm_crs_for(-70.6, -33.4).to_epsg() == 32719
    with pytest.raises(CrsError, match="longitude first"):
        utm_crs_for(22.94, 113.36)


@pytest.mark.parametrize(
    ("text", "gcj", "epsg"),
    [
        ("gcj02", True, 4326),
        ("GCJ-02", True, 4326),
        ("wgs84", False, 4326),
        ("EPSG:32649", False, 32649),
    ],
)
def test_parse_input_crs(text: str, gcj: bool, epsg: int) -> None:
    parsed = parse_input_crs(text)
    assert parsed.gcj02 is gcj
    assert parsed.crs.to_epsg() == epsg


def test_unknown_crs_names_the_accepted_forms() -> None:
    with pytest.raises(CrsError, match=r"unknown CRS 'bd09'.*'gcj02', 'wgs84', 'EPSG:<code>'"):
        parse_input_crs("bd09")
