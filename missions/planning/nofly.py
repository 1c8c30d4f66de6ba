"""No-fly zones in the planning CRS, and which of them restrict a flight at a time and altitude.

A zone restricts a flight when its horizontal outline is hit, its vertical band
[``floor_m``, ``ceiling_m``] (metres above ground; ``None`` = ground / unlimited) overlaps the
flight's altitudes, and it is active at some moment of the flight: inside the absolute window
[``active_from``, ``active_to``) and, if it has one, inside its daily local-time window (which may
wrap midnight, e.g. 22:00–06:00).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from missions.grid import to_metric
from missions.planning.errors import PlanningError

__all__ = ["NoFlyZone", "active_zones", "obstacle_union", "zones_from_frame"]

DEFAULT_MARGIN_M = 30.0  # keep-out distance added around every zone (GNSS error + wind drift)
DEFAULT_SIMPLIFY_M = 10.0  # outline simplification (compensated by growing as much more)


def _present(value: Any) -> bool:
    if value is None:
        return False
    try:
        return not bool(np.isnan(value))
    except TypeError:
        return value is not None and str(value) not in {"NaT", ""}


@dataclass(frozen=True)
class NoFlyZone:
    """One zone: metric outline, vertical band and activity windows."""

    name: str
    geometry: shapely.Geometry
    floor_m: float | None = None
    ceiling_m: float | None = None
    active_from: datetime | None = None
    active_to: datetime | None = None
    daily_start: time | None = None
    daily_end: time | None = None

    @property
    def permanent(self) -> bool:
        """No time window at all: the zone is always active."""
        return (
            self.active_from is None
            and self.active_to is None
            and (self.daily_start is None or self.daily_end is None)
        )

    def blocks_altitudes(self, low_m: float, high_m: float) -> bool:
        """Whether a flight between ``low_m`` and ``high_m`` above ground meets the zone's band."""
        floor = 0.0 if self.floor_m is None else self.floor_m
        ceiling = math.inf if self.ceiling_m is None else self.ceiling_m
        return low_m < ceiling and high_m > floor

    def active_during(self, start: datetime, end: datetime, tz: ZoneInfo) -> bool:
        """Whether the zone is active at any moment of [start, end] (aware datetimes)."""
        lo = start if self.active_from is None else max(start, self.active_from)
        hi = end if self.active_to is None else min(end, self.active_to)
        if hi < lo or (self.active_to is not None and lo >= self.active_to):
            return False
        if self.daily_start is None or self.daily_end is None:
            return True
        return _daily_overlap(lo, hi, self.daily_start, self.daily_end, tz)


def _daily_overlap(lo: datetime, hi: datetime, start: time, end: time, tz: ZoneInfo) -> bool:
    """Whether [lo, hi] meets the local daily window start–end (wraps midnight if end ≤ start)."""
    day = lo.astimezone(tz).date() - timedelta(days=1)
    last = hi.astimezone(tz).date()
    while day <= last:
        w0 = datetime.combine(day, start, tzinfo=tz)
        w1 = datetime.combine(day, end, tzinfo=tz)
        if w1 <= w0:
            w1 += timedelta(days=1)
        if w0 <= hi and lo < w1:
            return True
        day += timedelta(days=1)
    return False


def _clock(value: Any) -> time | None:
    if not _present(value):
        return None
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError as e:
        raise PlanningError(
            f"no-fly daily time {value!r} is not HH:MM; fix the no-fly layer"
        ) from e


def _when(value: Any) -> datetime | None:
    if not _present(value):
        return None
    out = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    if not isinstance(out, datetime) or out.tzinfo is None:
        raise PlanningError(
            f"no-fly activity time {value!r} is not an aware datetime; re-import the no-fly layer"
        )
    return out


def _metres(value: Any) -> float | None:
    return float(value) if _present(value) else None


def zones_from_frame(frame: gpd.GeoDataFrame | None, crs: CRS) -> list[NoFlyZone]:
    """Zones from a WGS-84 no-fly layer (as :func:`missions.geo.reader.read_layer` gives it)."""
    if frame is None or len(frame) == 0:
        return []
    geoms = to_metric(np.asarray(frame.geometry.values, dtype=object), crs)
    zones = []
    for i, row in enumerate(frame.itertuples(index=False)):
        get = row._asdict().get
        zones.append(
            NoFlyZone(
                name=str(get("name") or f"zone-{i}"),
                geometry=shapely.make_valid(geoms[i]),
                floor_m=_metres(get("floor_m")),
                ceiling_m=_metres(get("ceiling_m")),
                active_from=_when(get("active_from")),
                active_to=_when(get("active_to")),
                daily_start=_clock(get("daily_start")),
                daily_end=_clock(get("daily_end")),
            )
        )
    return zones


def active_zones(
    zones: Iterable[NoFlyZone],
    *,
    start: datetime | None,
    end: datetime | None,
    tz: ZoneInfo,
    max_altitude_m: float,
) -> list[NoFlyZone]:
    """Zones that restrict a flight up to ``max_altitude_m`` during [start, end].

    Without a time (``start`` None) every zone counts: a plan for an unknown time must avoid all.
    """
    out = []
    for z in zones:
        if not z.blocks_altitudes(0.0, max_altitude_m):
            continue
        if start is None or end is None or z.active_during(start, end, tz):
            out.append(z)
    return out


def obstacle_union(
    zones: Sequence[NoFlyZone],
    margin_m: float = DEFAULT_MARGIN_M,
    simplify_m: float = DEFAULT_SIMPLIFY_M,
) -> shapely.Geometry:
    """The keep-out area: zones grown by ``margin_m``, holes filled (a hole is no safe harbour).

    Outlines are simplified by ``simplify_m`` first and grown by that much more, so the result
    still contains every zone grown by the margin, with far fewer corners (the transit graph
    and every visibility test scale with them). Mitred joins keep one corner per vertex.
    """
    if not zones:
        return shapely.Polygon()
    geoms = np.array([z.geometry for z in zones], dtype=object)
    simple = shapely.simplify(geoms, simplify_m, preserve_topology=True)
    grown = shapely.buffer(simple, margin_m + simplify_m, join_style="mitre", mitre_limit=2.0)
    filled = [
        shapely.Polygon(p.exterior) for g in grown for p in shapely.get_parts(g) if not p.is_empty
    ]
    return shapely.union_all(filled)
