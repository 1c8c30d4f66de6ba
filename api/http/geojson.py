"""GeoDataFrame → RFC 7946 FeatureCollection (WGS-84, ISO-8601 times, nulls for missing)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from missions.geo.crs import WGS84

__all__ = ["feature_collection"]


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if not isinstance(value, str | bytes | list | dict) and bool(pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "value") and not isinstance(value, str | int | float | bool):
        return value.value
    return value


def feature_collection(
    frame: gpd.GeoDataFrame, *, id_column: str | None = None, **members: Any
) -> dict[str, Any]:
    wgs = frame.to_crs(WGS84) if frame.crs is not None else frame
    props = [c for c in wgs.columns if c != wgs.geometry.name]
    features = []
    for record, geom in zip(wgs[props].to_dict(orient="records"), wgs.geometry.values, strict=True):
        feature: dict[str, Any] = {
            "type": "Feature",
            "geometry": None if geom is None else shapely.geometry.mapping(geom),
            "properties": {k: _plain(v) for k, v in record.items()},
        }
        if id_column:
            feature["id"] = _plain(record[id_column])
        features.append(feature)
    return {"type": "FeatureCollection", "features": features, **members}
