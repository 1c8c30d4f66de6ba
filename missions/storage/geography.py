"""Store and load geography layers (WGS-84 GeoDataFrames with the normalised columns)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, delete, insert, select

from missions.geo.crs import WGS84
from missions.geo.layers import LAYER_COLUMNS, LayerKind
from missions.storage.base import Base
from missions.storage.models import District, Jurisdiction, NoFlyZone, Permit, PriorityArea

__all__ = ["LAYER_MODELS", "load_boundary", "load_layer", "save_layer"]

LAYER_MODELS: dict[LayerKind, type[Base]] = {
    LayerKind.BOUNDARY: District,
    LayerKind.JURISDICTIONS: Jurisdiction,
    LayerKind.NOFLY: NoFlyZone,
    LayerKind.PRIORITY: PriorityArea,
    LayerKind.PERMITS: Permit,
}


def _plain(value: Any) -> Any:
    """numpy/pandas scalars and enums → plain Python values for the database driver."""
    if value is None or (not isinstance(value, str | bytes) and bool(pd.isna(value))):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()
    if isinstance(value, Enum):
        return value.value
    return value


def save_layer(engine: Engine, kind: LayerKind, frame: gpd.GeoDataFrame, *, source: str) -> int:
    """Replace the stored layer ``kind`` with ``frame`` (WGS-84). Returns the rows written.

    The district boundary is stored as one multipolygon: the union of the file's features.
    """
    model = LAYER_MODELS[kind]
    if kind is LayerKind.BOUNDARY:
        names = [n for n in frame["name"] if n]
        rows: list[dict[str, Any]] = [
            {
                "name": str(names[0]) if names else source,
                "source": source,
                "imported_at": datetime.now(UTC),
                "geom": shapely.union_all(np.asarray(frame.geometry.values, dtype=object)),
            }
        ]
    else:
        columns = LAYER_COLUMNS[kind]
        rows = [
            {c: _plain(v) for c, v in zip(columns, values, strict=True)}
            for values in frame[list(columns)].itertuples(index=False, name=None)
        ]
        for row, geom in zip(rows, frame.geometry.values, strict=True):
            row["geom"] = geom
    with engine.begin() as conn:
        conn.execute(delete(model))
        if rows:
            conn.execute(insert(model), rows)
    return len(rows)


def load_layer(engine: Engine, kind: LayerKind) -> gpd.GeoDataFrame:
    """The stored layer as a WGS-84 GeoDataFrame (empty, with the right columns, if none)."""
    model = LAYER_MODELS[kind]
    columns = ("name",) if kind is LayerKind.BOUNDARY else LAYER_COLUMNS[kind]
    table = model.__table__
    with engine.connect() as conn:
        result = conn.execute(select(*(table.c[c] for c in columns), table.c.geom)).all()
    data = {c: [r[i] for r in result] for i, c in enumerate(columns)}
    geoms = [r[-1] for r in result]
    return gpd.GeoDataFrame(data, columns=list(columns), geometry=geoms, crs=WGS84)


def load_boundary(engine: Engine) -> shapely.Geometry | None:
    """The district boundary in WGS-84, or ``None`` if none was imported."""
    with engine.connect() as conn:
        return conn.execute(select(District.geom).limit(1)).scalar_one_or_none()
