"""Column types that behave the same on SQLite and on PostgreSQL + PostGIS.

Geometries are shapely objects in Python. On SQLite they are stored as plain WKB (spatial
filtering happens in shapely); on PostgreSQL they are PostGIS ``geometry`` columns in EPSG:4326,
sent and received as hex EWKB so GiST indexes and ``ST_*`` functions work on them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
import shapely
from geoalchemy2 import Geometry
from geoalchemy2.elements import WKBElement
from sqlalchemy import DateTime, LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["GeometryType", "UtcDateTime"]

SRID = 4326


class GeometryType(TypeDecorator[shapely.Geometry]):
    """A WGS-84 geometry column: WKB on SQLite, PostGIS ``geometry(<type>, 4326)`` on PostgreSQL."""

    impl = LargeBinary
    cache_ok = True
    # read by GeoAlchemy2's DDL hooks: our GiST indexes are declared explicitly, per dialect
    spatial_index = False
    use_N_D_index = False  # noqa: N815

    def __init__(self, geometry_type: str = "GEOMETRY") -> None:
        super().__init__()
        self.geometry_type = geometry_type

    def load_dialect_impl(self, dialect: Dialect | None) -> TypeEngine[Any]:
        # GeoAlchemy2's DDL hooks probe with no dialect: answer "plain column", we manage it
        if dialect is None:
            return LargeBinary()
        if dialect.name == "postgresql":
            return dialect.type_descriptor(
                Geometry(geometry_type=self.geometry_type, srid=SRID, spatial_index=False)
            )
        return dialect.type_descriptor(LargeBinary())

    def bind_expression(self, bindvalue: Any) -> Any:
        # hex EWKB goes straight into geometry_in; no ST_GeomFromEWKT wrapping
        return bindvalue

    def column_expression(self, col: Any) -> Any:
        return col

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or isinstance(value, bytes | str):
            return value  # already encoded (bulk paths encode whole arrays at once)
        return self.encode(value, dialect.name)

    def encode(self, geoms: Any, dialect_name: str) -> Any:
        """Encode one geometry or an array of them, vectorised, promoting to the column type."""
        if self.geometry_type == "MULTIPOLYGON":
            geoms = promote_multipolygon(geoms)
        if dialect_name == "postgresql":
            return shapely.to_wkb(shapely.set_srid(geoms, SRID), hex=True, include_srid=True)
        return shapely.to_wkb(geoms)

    def process_result_value(self, value: Any, dialect: Dialect) -> shapely.Geometry | None:
        if value is None:
            return None
        if isinstance(value, WKBElement):
            value = value.data
        if isinstance(value, memoryview):
            value = bytes(value)
        return cast(shapely.Geometry, shapely.from_wkb(value))


def promote_multipolygon(geoms: Any) -> Any:
    """Polygons → single-part MultiPolygons (one geometry or an array), others unchanged."""
    arr = np.asarray(geoms, dtype=object)
    scalar = arr.ndim == 0
    arr = arr.reshape(-1)
    single = shapely.get_type_id(arr) == 3
    if single.any():
        arr = arr.copy()
        arr[single] = shapely.multipolygons(arr[single][:, np.newaxis])
    return arr[0] if scalar else arr


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps naive values; we tag them)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
