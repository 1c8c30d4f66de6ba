"""GeoJSON (RFC 7946) of a sortie: its path and its waypoints, for web maps and review."""

from __future__ import annotations

from typing import Any

from missions.planning.sortie import Sortie, Waypoint


def _position(wp: Waypoint) -> list[float]:
    # RFC 7946 positions are [lon, lat, alt]; alt here is height above the nest (alt_m).
    return [wp.lon, wp.lat, wp.alt_m]


def _waypoint_feature(sortie: Sortie, index: int, wp: Waypoint) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": _position(wp)},
        "properties": {
            "kind": "waypoint",
            "sortie_id": sortie.sortie_id,
            "index": index,
            "action": wp.action.value,
            "alt_m": wp.alt_m,
            "speed_mps": wp.speed_mps,
            "trigger_spacing_m": wp.trigger_spacing_m,
        },
    }


def to_geojson(sortie: Sortie) -> dict[str, Any]:
    """A FeatureCollection: one LineString for the path, then one Point per waypoint.

    Heights are above the nest (not above the ellipsoid as RFC 7946 suggests), which the
    ``alt_reference`` property says, so a map never mistakes them for absolute altitudes.
    """
    start = sortie.planned_start
    end = sortie.planned_end
    path: dict[str, Any] = {
        "type": "Feature",
        "geometry": {
            "type": "LineString",
            "coordinates": [_position(wp) for wp in sortie.waypoints],
        },
        "properties": {
            "kind": "path",
            "sortie_id": sortie.sortie_id,
            "nest_id": sortie.nest_id,
            "cell_count": len(sortie.cell_ids),
            "estimated_duration_s": sortie.estimated_duration_s,
            "planned_start": start.isoformat() if start is not None else None,
            "planned_end": end.isoformat() if end is not None else None,
            "alt_reference": "above_nest",
        },
    }
    points = [_waypoint_feature(sortie, i, wp) for i, wp in enumerate(sortie.waypoints)]
    return {"type": "FeatureCollection", "features": [path, *points]}
