"""Verifications over HTTP: the list (GeoJSON areas) and a flight's result upload.

Officers see only the verifications of tickets in their jurisdictions (a condition of the
query). Results come from dispatchers, admins or a system's API key (the patrol controller,
a detection worker); the body is the detection FeatureCollection ``nestpatrol detect`` writes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import shapely
from fastapi import APIRouter, Body, Query, Response
from sqlalchemy.orm import Session

from api.auth.models import Role
from api.auth.security import Principal
from api.clues.detection import Detection
from api.errors import DetectionInputError
from api.geography.views import GEOJSON
from api.http.deps import MAX_ROW_ID, CurrentPrincipal, EngineDep, RowId, SettingsDep
from api.http.pagination import decode_id_cursor, encode_cursor
from api.http.problems import ProblemError
from api.tickets.models import TicketRow
from api.verification import service
from api.verification.config import config_from_settings
from api.verification.models import VerificationRead, VerificationRow, VerificationStatus

__all__ = ["feature", "router"]

router = APIRouter(prefix="/api/v1/verifications", tags=["verifications"])


def feature(row: VerificationRow) -> dict[str, Any]:
    """A verification as a GeoJSON Feature: the flown square and every recorded field."""
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": json.loads(shapely.to_geojson(row.geom)),
        "properties": VerificationRead.model_validate(row).model_dump(mode="json"),
    }


def _scope(principal: Principal) -> list[str] | None:
    return list(principal.jurisdictions) if principal.role is Role.OFFICER else None


@router.get("", responses={200: {"content": {GEOJSON: {}}}})
def list_verifications(
    principal: CurrentPrincipal,
    engine: EngineDep,
    status: Annotated[list[VerificationStatus] | None, Query()] = None,
    ticket_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    cursor: str | None = None,
) -> Response:
    """Verifications as a FeatureCollection (areas flown), oldest first, in keyset pages."""
    after = decode_id_cursor(cursor)
    with Session(engine) as session:
        rows = service.list_verifications(
            session,
            statuses=status or [],
            ticket_id=ticket_id,
            jurisdictions=_scope(principal),
            limit=limit,
            after_id=after,
        )
        features = [feature(r) for r in rows]
    next_cursor = encode_cursor(str(rows[-1].id)) if len(rows) == limit else None
    body = {"type": "FeatureCollection", "features": features, "next_cursor": next_cursor}
    return Response(json.dumps(body), media_type=GEOJSON)


def _may_report(principal: Principal) -> bool:
    if principal.role in (Role.DISPATCHER, Role.ADMIN):
        return True
    return principal.name.startswith("key:") and principal.role is not Role.OFFICER


def _detections(body: dict[str, Any]) -> list[Detection]:
    features = body.get("features")
    if body.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise ProblemError(
            422,
            "Invalid request",
            "send the flight's detections as a GeoJSON FeatureCollection "
            "(as `nestpatrol detect` writes it)",
        )
    out, problems = [], []
    for i, f in enumerate(features):
        try:
            out.append(Detection.from_geojson_feature(f, i))
        except DetectionInputError as e:
            problems.append(str(e))
    if problems:
        raise ProblemError(
            422,
            "Invalid detections",
            f"{len(problems)} bad feature(s): " + "; ".join(problems[:20]),
            problems=problems[:100],
        )
    return out


@router.post("/{verification_id}/result")
def report_result(
    verification_id: RowId,
    principal: CurrentPrincipal,
    engine: EngineDep,
    settings: SettingsDep,
    body: Annotated[dict[str, Any], Body(description="GeoJSON FeatureCollection of detections.")],
    flown_at: Annotated[
        datetime | None, Query(description="When the flight flew [latest detection, else now].")
    ] = None,
    flight_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """Judge a verification flight: the ticket closes, or goes back to its officer."""
    if not _may_report(principal):
        raise ProblemError(
            403,
            "Forbidden",
            "verification results come from dispatchers, admins or a system API key; "
            f"you are {principal.role.value}",
        )
    detections = _detections(body)
    now = datetime.now(UTC)
    if flown_at is None:
        flown_at = max((d.observed_at for d in detections), default=now)
    elif flown_at.tzinfo is None:
        flown_at = flown_at.replace(tzinfo=settings.tz)
    with Session(engine) as session, session.begin():
        try:
            row = service.complete_verification(
                session,
                verification_id=verification_id,
                detections=detections,
                flown_at=flown_at,
                flight_id=flight_id,
                now=now,
                config=config_from_settings(settings),
            )
        except service.VerificationError as e:
            raise ProblemError(409, "Verification not open", str(e)) from e
        out = feature(row)
        ticket = session.get_one(TicketRow, row.ticket_id)
        out["properties"]["ticket_status"] = ticket.status
    return out
