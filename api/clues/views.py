"""Clues over HTTP: the list (GeoJSON points, with their rules and evidence) and one clue.

Clues are the pipeline's raw material — every clustered object, including those the rules
suppressed or took as baseline — so they are for dispatchers, planners and admins. Officers
work on tickets, which are scoped to their jurisdictions; a clue is not, so they get 403 here.
Each listed clue carries its newest evidence crops (hashes for ``GET /api/v1/evidence/{sha256}``)
and the id of its ticket when it became one.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Annotated, Any

import geopandas as gpd
import pandas as pd
import shapely
from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from api.auth.models import Role
from api.auth.security import Principal
from api.clues.detection import DetectionClass
from api.clues.models import ClueRead, ClueRow, ClueStatus, SightingRead, SightingRow
from api.geography.views import GEOJSON, BBoxQuery, parse_bbox
from api.http.deps import CurrentPrincipal, EngineDep, RowId, require_roles
from api.http.geojson import feature_collection
from api.http.pagination import decode_id_cursor, encode_cursor
from api.http.problems import ProblemError
from api.tickets.models import TicketRow
from missions.geo.crs import WGS84

__all__ = ["MAX_EVIDENCE", "router"]

router = APIRouter(prefix="/api/v1/clues", tags=["clues"])

#: evidence crops listed per clue in the list (the newest); the single clue lists every sighting
MAX_EVIDENCE = 6
_COLUMNS = [
    "id",
    "detection_class",
    "status",
    "category",
    "confidence",
    "sighting_count",
    "first_seen_at",
    "last_seen_at",
    "rules",
    "ticket_id",
    "evidence",
]
_staff = require_roles(Role.DISPATCHER, Role.PLANNER)


def _clue_reader(principal: CurrentPrincipal) -> Principal:
    if principal.role is Role.OFFICER:
        raise ProblemError(
            403,
            "Forbidden",
            "clues are for dispatchers, planners and admins; officers work on tickets "
            "(GET /api/v1/tickets), which are scoped to their jurisdictions",
        )
    return _staff(principal)


ClueReader = Annotated[Principal, Depends(_clue_reader)]
TimeQuery = Annotated[
    datetime | None,
    Query(
        description="ISO-8601 with a UTC offset, compared with last_seen_at",
        examples=["2026-11-23T08:00:00+08:00"],
    ),
]


def _aware(name: str, value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ProblemError(
            422,
            "Invalid request",
            f"{name} {value.isoformat()} has no UTC offset; add one, e.g. "
            f"{value.replace(microsecond=0).isoformat()}+08:00 or …Z",
        )
    try:
        return value.astimezone(UTC)
    except OverflowError as e:
        raise ProblemError(
            422, "Invalid request", f"{name} {value.isoformat()} is out of range; use a real date"
        ) from e


def _list_query(
    *,
    statuses: list[ClueStatus],
    classes: list[DetectionClass],
    bbox: str | None,
    since: datetime | None,
    until: datetime | None,
    after: int | None,
    limit: int,
) -> Select[ClueRow]:
    query = select(ClueRow).order_by(ClueRow.id).limit(limit)
    if statuses:
        query = query.where(ClueRow.status.in_([s.value for s in statuses]))
    if classes:
        query = query.where(ClueRow.detection_class.in_([c.value for c in classes]))
    box = parse_bbox(bbox)
    if box is not None:
        query = query.where(
            ClueRow.lon.between(box.min_lon, box.max_lon),
            ClueRow.lat.between(box.min_lat, box.max_lat),
        )
    if since is not None:
        query = query.where(ClueRow.last_seen_at >= since)
    if until is not None:
        query = query.where(ClueRow.last_seen_at <= until)
    if after is not None:
        query = query.where(ClueRow.id > after)
    return query


def _ticket_ids(session: Session, clue_ids: list[int]) -> dict[int, int]:
    query = select(TicketRow.clue_id, TicketRow.id).where(TicketRow.clue_id.in_(clue_ids))
    return {clue_id: ticket_id for clue_id, ticket_id in session.execute(query) if clue_id}


def _evidence(session: Session, clue_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The newest ``MAX_EVIDENCE`` sightings with a crop of each clue, newest first."""
    rank = (
        func.row_number()
        .over(
            partition_by=SightingRow.clue_id,
            order_by=(SightingRow.observed_at.desc(), SightingRow.id.desc()),
        )
        .label("rank")
    )
    ranked = (
        select(
            SightingRow.clue_id,
            SightingRow.crop_sha256,
            SightingRow.observed_at,
            SightingRow.score,
            rank,
        )
        .where(SightingRow.clue_id.in_(clue_ids), SightingRow.crop_sha256.is_not(None))
        .subquery()
    )
    query = (
        select(ranked.c.clue_id, ranked.c.crop_sha256, ranked.c.observed_at, ranked.c.score)
        .where(ranked.c.rank <= MAX_EVIDENCE)
        .order_by(ranked.c.clue_id, ranked.c.rank)
    )
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for clue_id, sha, observed_at, score in session.execute(query):
        at = observed_at if observed_at.tzinfo else observed_at.replace(tzinfo=UTC)
        iso = at.astimezone(UTC).isoformat().replace("+00:00", "Z")  # as the clue's own times
        out[clue_id].append({"sha256": sha, "observed_at": iso, "score": score})
    return out


def _properties(
    row: ClueRow, ticket_ids: dict[int, int], evidence: dict[int, list[dict[str, Any]]]
) -> dict[str, Any]:
    read = ClueRead.model_validate(row).model_dump(mode="json", exclude={"lon", "lat"})
    return {**read, "ticket_id": ticket_ids.get(row.id), "evidence": evidence.get(row.id, [])}


def _collection(session: Session, rows: list[ClueRow], **members: Any) -> dict[str, Any]:
    ids = [r.id for r in rows]
    tickets, evidence = _ticket_ids(session, ids), _evidence(session, ids)
    records = [_properties(r, tickets, evidence) for r in rows]
    frame = gpd.GeoDataFrame(
        pd.DataFrame(records, columns=_COLUMNS, dtype=object),
        geometry=[shapely.Point(r.lon, r.lat) for r in rows],
        crs=WGS84,
    )
    return feature_collection(frame, id_column="id", **members)


@router.get("", responses={200: {"content": {GEOJSON: {}}}})
def list_clues(
    _: ClueReader,
    engine: EngineDep,
    status: Annotated[list[ClueStatus] | None, Query()] = None,
    detection_class: Annotated[
        list[DetectionClass] | None, Query(alias="class", description="Detection class.")
    ] = None,
    bbox: BBoxQuery = None,
    since: TimeQuery = None,
    until: TimeQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> Response:
    """Clues as a FeatureCollection of points, oldest id first, in keyset pages."""
    start, end = _aware("since", since), _aware("until", until)
    if start is not None and end is not None and start > end:
        raise ProblemError(
            422, "Invalid request", "since is after until; swap them or widen the range"
        )
    query = _list_query(
        statuses=status or [],
        classes=detection_class or [],
        bbox=bbox,
        since=start,
        until=end,
        after=decode_id_cursor(cursor),
        limit=limit,
    )
    with Session(engine) as session:
        rows = list(session.scalars(query))
        next_cursor = encode_cursor(str(rows[-1].id)) if len(rows) == limit else None
        body = _collection(session, rows, next_cursor=next_cursor)
    return Response(json.dumps(body), media_type=GEOJSON)


@router.get("/{clue_id}")
def get_clue(clue_id: RowId, _: ClueReader, engine: EngineDep) -> dict[str, Any]:
    """One clue with every sighting (oldest first), its rules, evidence and ticket."""
    with Session(engine) as session:
        row = session.get(ClueRow, clue_id)
        if row is None:
            raise ProblemError(
                404, "Not found", f"no clue {clue_id}; take an id from GET /api/v1/clues"
            )
        feature: dict[str, Any] = _collection(session, [row])["features"][0]
        sightings = session.scalars(
            select(SightingRow)
            .where(SightingRow.clue_id == clue_id)
            .order_by(SightingRow.observed_at, SightingRow.id)
        )
        feature["properties"]["sightings"] = [
            SightingRead.model_validate(s).model_dump(mode="json") for s in sightings
        ]
    return feature
