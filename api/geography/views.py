"""GeoJSON lists: geography layers, cells (bbox, jurisdiction, class, cursor pages), nests."""

from __future__ import annotations

import json
from typing import Annotated, Any

import geopandas as gpd
from fastapi import APIRouter, Query, Response

from api.http.deps import CurrentPrincipal, EngineDep
from api.http.geojson import feature_collection
from api.http.pagination import decode_cursor, encode_cursor
from api.http.problems import ProblemError
from missions.fleet import Nest
from missions.geo.crs import WGS84
from missions.geo.layers import LayerKind, PriorityClass
from missions.storage import BBox, load_cells, load_layer, load_nests

router = APIRouter(prefix="/api/v1", tags=["geography"])

GEOJSON = "application/geo+json"
BBoxQuery = Annotated[
    str | None,
    Query(
        description="min_lon,min_lat,max_lon,max_lat (WGS-84)",
        examples=["113.30,22.90,113.40,23.00"],
    ),
]


def parse_bbox(text: str | None) -> BBox | None:
    if text is None:
        return None
    try:
        parts = [float(v) for v in text.split(",")]
    except ValueError as e:
        raise ProblemError(
            400, "Bad bbox", f"bbox {text!r} must be four numbers: min_lon,min_lat,max_lon,max_lat"
        ) from e
    if len(parts) != 4:
        raise ProblemError(
            400,
            "Bad bbox",
            f"bbox needs 4 numbers, got {len(parts)}: min_lon,min_lat,max_lon,max_lat",
        )
    lon0, lat0, lon1, lat1 = parts
    if not (
        -180 <= lon0 <= 180 and -180 <= lon1 <= 180 and -90 <= lat0 <= 90 and -90 <= lat1 <= 90
    ):
        raise ProblemError(400, "Bad bbox", "bbox is not WGS-84 lon/lat (longitude first, degrees)")
    try:
        return BBox(lon0, lat0, lon1, lat1)
    except ValueError as e:
        raise ProblemError(400, "Bad bbox", str(e)) from e


@router.get("/geography/{layer}", responses={200: {"content": {GEOJSON: {}}}})
def geography(layer: LayerKind, _: CurrentPrincipal, engine: EngineDep) -> Response:
    """One imported layer as a FeatureCollection (boundary, jurisdictions, nofly, priority, ...)."""
    frame = load_layer(engine, layer)
    return _geojson(feature_collection(frame, layer=layer.value))


@router.get("/cells", responses={200: {"content": {GEOJSON: {}}}})
def cells(
    _: CurrentPrincipal,
    engine: EngineDep,
    bbox: BBoxQuery = None,
    jurisdiction: str | None = None,
    priority: PriorityClass | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> Response:
    """Unit-grid cells with their attributes, in pages ordered by cell id."""
    frame = load_cells(
        engine,
        bbox=parse_bbox(bbox),
        jurisdiction=jurisdiction,
        priority=priority.value if priority else None,
        after=decode_cursor(cursor),
        limit=limit,
    )
    more = frame.attrs["scanned"] == limit  # a full page read: there may be more
    next_cursor = encode_cursor(frame.attrs["last_scanned"]) if more else None
    return _geojson(feature_collection(frame, id_column="cell_id", next_cursor=next_cursor))


RESPONSE_TIME_S = 300.0


def straight_line_reach_m(nest: Nest) -> float:
    """How far the nest's drone gets in the 5-minute promise, launch included, flying straight.

    An upper bound for the map: no-fly detours and wind make the planner's answer shorter.
    """
    profile = nest.profile
    return max(0.0, (RESPONSE_TIME_S - profile.launch_overhead_s) * profile.max_speed_mps)


@router.get("/nests", responses={200: {"content": {GEOJSON: {}}}})
def nests(_: CurrentPrincipal, engine: EngineDep) -> Response:
    rows = load_nests(engine)
    frame = gpd.GeoDataFrame(
        {
            "nest_id": [n.nest_id for n in rows],
            "name": [n.name for n in rows],
            "status": [n.status.value for n in rows],
            "battery_mode": [n.battery_mode.value for n in rows],
            "ground_elevation_m": [n.ground_elevation_m for n in rows],
            "reach_radius_m": [straight_line_reach_m(n) for n in rows],
        },
        geometry=gpd.points_from_xy([n.lon for n in rows], [n.lat for n in rows]),
        crs=WGS84,
    )
    return _geojson(feature_collection(frame, id_column="nest_id"))


def _geojson(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), media_type=GEOJSON)
