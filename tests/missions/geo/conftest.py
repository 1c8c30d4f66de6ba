"""Writers of small geography files for the import tests (generated per test, never checked in)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

Feature = dict[str, Any]


def polygon(coords: list[tuple[float, float]], **props: Any) -> Feature:
    ring = [list(c) for c in coords]
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def square(lon: float, lat: float, d: float = 0.01, **props: Any) -> Feature:
    return polygon([(lon, lat), (lon + d, lat), (lon + d, lat + d), (lon, lat + d)], **props)


@pytest.fixture
def write_geojson(tmp_path: Path) -> Callable[..., Path]:
    def write(features: list[Feature], name: str = "layer.geojson") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        return path

    return write
