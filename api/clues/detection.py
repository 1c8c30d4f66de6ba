"""The detections clues are built from: a small typed input, independent of :mod:`detection`.

The detection pipeline emits GeoJSON features (RFC 7946, WGS-84) whose properties carry at least
``class``, ``score``, ``source`` and ``observed_at`` and whose geometry is the ground polygon of
the object. Validating here, feature by feature, lets a bad file be fixed in one pass.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape

from api.errors import DetectionInputError

__all__ = ["Detection", "DetectionClass", "load_detections"]


class DetectionClass(StrEnum):
    """The violation classes the detector reports (names match the model's class names)."""

    ILLEGAL_STRUCTURE = "illegal_structure"
    CONSTRUCTION_WASTE = "construction_waste"
    CONSTRUCTION_MACHINERY = "construction_machinery"
    MUCK_TRUCK = "muck_truck"

    @property
    def is_activity(self) -> bool:
        """Machinery and trucks are activity: judged by the night-construction rule."""
        return self in {DetectionClass.CONSTRUCTION_MACHINERY, DetectionClass.MUCK_TRUCK}


@dataclass(frozen=True)
class Detection:
    """One detection of one object in one frame, with its ground polygon in WGS-84.

    ``light`` is the object's mean brightness over the median brightness of the scene around it
    (``detection.inference.light``), the evidence of work lights the night rule reads;
    ``None`` when the pipeline did not measure it.
    """

    detection_class: DetectionClass
    score: float
    source: str
    observed_at: datetime
    ground: shapely.Polygon | shapely.MultiPolygon
    pixel_box: tuple[int, int, int, int] | None = None
    frame_path: str | None = None
    light: float | None = None

    @classmethod
    def from_geojson_feature(
        cls, feature: Mapping[str, Any], index: int | None = None
    ) -> Detection:
        """Validate one feature; errors name ``index`` and say what to change."""
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            raise DetectionInputError(index, "not a GeoJSON Feature", "emit type: Feature")
        props = feature.get("properties") or {}
        return cls(
            detection_class=_class(props, index),
            score=_score(props, index),
            source=_text(props, "source", index),
            observed_at=_time(props, index),
            ground=_ground(feature.get("geometry"), index),
            pixel_box=_box(props.get("pixel_box", props.get("bbox_px")), index),
            frame_path=_optional_text(props.get("frame_path", props.get("frame"))),
            light=_light(props.get("light"), index),
        )


def load_detections(path: Path) -> list[Detection]:
    """All detections of a GeoJSON FeatureCollection file, every bad feature listed at once."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DetectionInputError(None, f"cannot read {path}: {e}", "pass a GeoJSON file") from e
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise DetectionInputError(
            None, f"{path} is not a FeatureCollection", "wrap the features in a FeatureCollection"
        )
    out: list[Detection] = []
    problems: list[str] = []
    for i, feature in enumerate(features):
        try:
            out.append(Detection.from_geojson_feature(feature, i))
        except DetectionInputError as e:
            problems.append(str(e))
    if problems:
        raise DetectionInputError(
            None,
            f"{path}: {len(problems)} bad feature(s):\n  " + "\n  ".join(problems[:20]),
            "correct the listed features and ingest the file again",
        )
    return out


def _class(props: Mapping[str, Any], index: int | None) -> DetectionClass:
    value = props.get("class", props.get("class_name"))
    try:
        return DetectionClass(str(value))
    except ValueError as e:
        names = ", ".join(c.value for c in DetectionClass)
        raise DetectionInputError(index, f"unknown class {value!r}", f"use one of {names}") from e


def _score(props: Mapping[str, Any], index: int | None) -> float:
    value = props.get("score")
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise DetectionInputError(index, f"score {value!r} is not in 0..1", "emit a probability")
    return float(value)


def _light(value: object, index: int | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < 1e6:
        raise DetectionInputError(
            index,
            f"light {value!r} is not a brightness ratio ≥ 0",
            "emit the box's mean over the scene's median luminance, or leave light out",
        )
    return float(value)


def _text(props: Mapping[str, Any], key: str, index: int | None) -> str:
    value = _optional_text(props.get(key))
    if value is None:
        raise DetectionInputError(index, f"property {key!r} is missing", f"add {key!r}")
    return value


def _optional_text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _time(props: Mapping[str, Any], index: int | None) -> datetime:
    value = props.get("observed_at")
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as e:
        raise DetectionInputError(
            index, f"observed_at {value!r} is not an ISO time", "use e.g. 2026-11-23T14:05:00Z"
        ) from e
    if at.tzinfo is None:
        raise DetectionInputError(
            index, f"observed_at {value!r} has no time zone", "append Z (UTC) or an offset"
        )
    return at.astimezone(UTC)


def _ground(geometry: object, index: int | None) -> shapely.Polygon | shapely.MultiPolygon:
    try:
        geom = shape(geometry)  # type: ignore[arg-type]
    except (AttributeError, TypeError, ValueError, KeyError, shapely.errors.ShapelyError) as e:
        raise DetectionInputError(index, f"unreadable geometry ({e})", "emit a Polygon") from e
    if not isinstance(geom, shapely.Polygon | shapely.MultiPolygon) or geom.is_empty:
        raise DetectionInputError(
            index, f"geometry is a {geom.geom_type}, not a ground polygon", "emit a Polygon"
        )
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise DetectionInputError(
            index, "coordinates are not WGS-84 lon/lat", "reproject to EPSG:4326, lon first"
        )
    return geom if geom.is_valid else shapely.make_valid(geom).buffer(0)


def _box(value: object, index: int | None) -> tuple[int, int, int, int] | None:
    if value is None:
        return None
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 4:
        raise DetectionInputError(
            index, f"pixel_box {value!r} is not [x0, y0, x1, y1]", "emit four pixel numbers"
        )
    x0, y0, x1, y1 = (round(float(v)) for v in value)
    if x1 <= x0 or y1 <= y0:
        raise DetectionInputError(index, f"pixel_box {value!r} is empty", "use x0 < x1, y0 < y1")
    return x0, y0, x1, y1
