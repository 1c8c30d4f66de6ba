"""Read frame footprints (e.g. exported from a flight log) as flights with their frames.

Input: GeoJSON/GeoPackage of polygons in WGS-84, one per frame, with properties ``flight_id``
and ``taken_at`` (ISO-8601; local time when no zone is given) and optionally ``frame_id``,
``nest_id``. Every bad feature is reported with its index before anything is stored.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from missions.geo.crs import WGS84
from patrol.errors import PatrolError
from patrol.storage.records import FlightRecord, FrameRecord

__all__ = ["read_footprints"]


def _when(value: object, tz: ZoneInfo) -> datetime:
    stamp = pd.Timestamp(str(value)) if not isinstance(value, pd.Timestamp) else value
    if pd.isna(stamp):
        raise ValueError("missing")
    return (stamp.tz_localize(tz) if stamp.tzinfo is None else stamp).to_pydatetime()


def _problems(frame: gpd.GeoDataFrame, tz: ZoneInfo) -> tuple[list[str], list[datetime | None]]:
    problems: list[str] = []
    times: list[datetime | None] = []
    for i, (geom, flight, taken) in enumerate(
        zip(
            frame.geometry,
            frame.get("flight_id", [None] * len(frame)),
            frame.get("taken_at", [None] * len(frame)),
            strict=True,
        )
    ):
        when = None
        if geom is None or shapely.get_type_id(geom) != 3:
            problems.append(
                f"feature {i}: footprint must be a Polygon (fix: one polygon per frame)"
            )
        if flight is None or pd.isna(flight) or not str(flight).strip():
            problems.append(f"feature {i}: property 'flight_id' is missing (fix: add it)")
        try:
            when = _when(taken, tz)
        except (ValueError, TypeError):
            problems.append(
                f"feature {i}: 'taken_at' {taken!r} is not an ISO-8601 time "
                "(fix: e.g. 2026-11-23T08:00:00+08:00)"
            )
        times.append(when)
    return problems, times


def read_footprints(path: Path, *, tz: ZoneInfo) -> list[tuple[FlightRecord, list[FrameRecord]]]:
    """Flights (times spanning their frames) with their frames, from a footprint file."""
    try:
        frame = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, ValueError) as e:
        raise PatrolError(
            f"{path}: not a readable vector file ({e}); give GeoJSON or GeoPackage"
        ) from e
    if len(frame) == 0:
        raise PatrolError(f"{path}: no features; export the frame footprints again")
    if frame.crs is not None and not frame.crs.equals(WGS84):
        frame = frame.to_crs(WGS84)
    problems, times = _problems(frame, tz)
    if problems:
        raise PatrolError(f"{path}: cannot ingest:\n  - " + "\n  - ".join(problems[:20]))
    by_flight: dict[str, list[FrameRecord]] = defaultdict(list)
    nest_of: dict[str, str | None] = {}
    ids = frame.get("frame_id", pd.Series([None] * len(frame)))
    nests = frame.get("nest_id", pd.Series([None] * len(frame)))
    for i, (geom, flight, when, fid, nest) in enumerate(
        zip(frame.geometry, frame["flight_id"], times, ids, nests, strict=True)
    ):
        key = str(flight)
        if when is None:  # unreachable: a missing time is reported as a problem above
            continue
        by_flight[key].append(
            FrameRecord(str(fid) if fid and not pd.isna(fid) else f"{key}-{i:06d}", when, geom)
        )
        nest_of.setdefault(key, None if nest is None or pd.isna(nest) else str(nest))
    return [
        (
            FlightRecord(
                flight_id=key,
                started_at=min(f.taken_at for f in frames),
                ended_at=max(f.taken_at for f in frames),
                nest_id=nest_of[key],
            ),
            frames,
        )
        for key, frames in by_flight.items()
    ]
