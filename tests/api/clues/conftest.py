"""Detections as the pipeline emits them, placed in metres around a point in Panyu; and one
migrated database per test module and backend (wiped between tests), shared by the api tests.

Migrating a fresh PostGIS database costs 1–3 s; doing it once per module instead of once per
test keeps the api tests inside their time budget on the shared CPUs.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import Engine

from missions.geo.crs import WGS84
from missions.geo.layers import LayerKind
from missions.storage import make_engine, save_layer, upgrade
from missions.storage.base import Base

from ...conftest import BACKENDS, backend_url


@pytest.fixture(scope="module", params=BACKENDS)
def module_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database for a whole test module, on each backend."""
    with backend_url(request.param, tmp_path_factory) as url:
        eng = make_engine(url)
        try:
            upgrade(eng)
            yield eng
        finally:
            eng.dispose()


@pytest.fixture
def engine(module_engine: Engine) -> Engine:
    """The module's database, emptied: every test starts from a fresh, migrated schema."""
    with module_engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    return module_engine


LON0, LAT0 = 113.38, 22.94
M_PER_DEG_LAT = 111_320.0


def square(dx_m: float, dy_m: float, side_m: float = 6.0) -> shapely.Polygon:
    """A square ``side_m`` wide whose lower-left corner is ``(dx_m, dy_m)`` from the origin."""
    m_lon = M_PER_DEG_LAT * math.cos(math.radians(LAT0))
    x0, y0 = LON0 + dx_m / m_lon, LAT0 + dy_m / M_PER_DEG_LAT
    return shapely.box(x0, y0, x0 + side_m / m_lon, y0 + side_m / M_PER_DEG_LAT)


def feature(
    cls: str,
    at: str,
    dx_m: float = 0.0,
    dy_m: float = 0.0,
    *,
    score: float = 0.7,
    source: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "class": cls,
        "score": score,
        "source": source or f"frame-{cls}-{at}-{dx_m}",
        "observed_at": at,
    }
    props.update(extra)
    return {
        "type": "Feature",
        "properties": props,
        "geometry": shapely.geometry.mapping(square(dx_m, dy_m)),
    }


def save_permits(
    engine: Engine, rows: list[tuple[str, str, shapely.Geometry, datetime | None]]
) -> None:
    """Permits ``(number, kind, area, valid_to)``, valid from 2026-01-01."""
    frame = gpd.GeoDataFrame(
        {
            "permit_no": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "valid_from": [datetime.fromisoformat("2026-01-01T00:00:00+00:00")] * len(rows),
            "valid_to": [r[3] for r in rows],
        },
        geometry=[r[2] for r in rows],
        crs=WGS84,
    )
    save_layer(engine, LayerKind.PERMITS, frame, source="test")


@pytest.fixture
def around() -> shapely.Polygon:
    """A 200 m box around the origin, for permits and observed areas."""
    return square(-100.0, -100.0, 200.0)
