"""Tickets over HTTP: lists (GeoJSON) and officer actions, scoped to the caller's jurisdictions.

Officers see and act only on tickets of their jurisdictions: the restriction is a condition of
the SQL query itself, and a ticket outside it answers 404 as if it did not exist. Officer
actions map onto the workflow: ``handle`` (dispatched → handled: taken on and dealt with),
``feedback`` (handled → feedback: the result reported), ``reject`` (a false positive, with its
reason) and ``duplicate`` (of an original ticket).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from api.auth.models import Role
from api.auth.security import Principal
from api.geography.views import GEOJSON, BBoxQuery, parse_bbox
from api.http.deps import MAX_ROW_ID, CurrentPrincipal, EngineDep, RowId, SettingsDep
from api.http.pagination import decode_id_cursor
from api.http.problems import ProblemError
from api.tickets import geojson_sql, service
from api.tickets.models import TicketRow, TransitionRead
from api.tickets.workflow import TicketStatus
from api.verification import service as verification
from api.verification.config import config_from_settings
from api.verification.views import feature as verification_feature

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])


class OfficerAction(StrEnum):
    HANDLE = "handle"
    FEEDBACK = "feedback"
    REJECT = "reject"
    DUPLICATE = "duplicate"


#: actions that are plain workflow moves
_MOVES = {OfficerAction.HANDLE: TicketStatus.HANDLED, OfficerAction.FEEDBACK: TicketStatus.FEEDBACK}


class ActionRequest(BaseModel):
    action: OfficerAction
    note: str | None = Field(default=None, max_length=2000, examples=["shed removed by owner"])
    reason: str | None = Field(default=None, max_length=2000, description="For reject.")
    original_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID, description="For duplicate.")


def _scoped(query: Select[Any], principal: Principal) -> Select[Any]:
    return geojson_sql.scoped(query, principal)


def _feature(row: TicketRow) -> dict[str, Any]:
    props = service.ticket_payload(row)
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
        "properties": props,
    }


@router.get("", responses={200: {"content": {GEOJSON: {}}}})
def list_tickets(
    principal: CurrentPrincipal,
    engine: EngineDep,
    status: Annotated[list[TicketStatus] | None, Query()] = None,
    jurisdiction: str | None = None,
    overdue: bool | None = None,
    bbox: BBoxQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    cursor: str | None = None,
) -> Response:
    """Tickets as a FeatureCollection, newest id last, in keyset pages."""
    # the features' JSON is written by the database (api.tickets.geojson_sql): a page of 200
    # costs a few ms of server CPU instead of ~30 ms through ORM objects and json.dumps
    box = parse_bbox(bbox)
    after = decode_id_cursor(cursor)
    query = geojson_sql.TicketListQuery(
        principal=principal,
        statuses=tuple(status or ()),
        jurisdiction=jurisdiction,
        overdue=overdue,
        box=box,
        after_id=after,
        limit=limit,
    )
    return Response(geojson_sql.feature_collection_json(engine, query), media_type=GEOJSON)


def _get(session: Session, principal: Principal, ticket_id: int) -> TicketRow:
    query = _scoped(select(TicketRow).where(TicketRow.id == ticket_id), principal)
    row: TicketRow | None = session.scalars(query).first()
    if row is None:
        raise ProblemError(404, "Not found", f"no ticket {ticket_id} in your jurisdictions")
    return row


@router.get("/{ticket_id}")
def get_ticket(ticket_id: RowId, principal: CurrentPrincipal, engine: EngineDep) -> dict[str, Any]:
    """One ticket with its evidence, full transition history and verification flights."""
    with Session(engine) as session:
        row = _get(session, principal, ticket_id)
        feature = _feature(row)
        feature["properties"]["history"] = [
            TransitionRead.model_validate(t).model_dump(mode="json")
            for t in service.history(session, ticket_id=ticket_id)
        ]
        feature["properties"]["verifications"] = [
            verification_feature(v)
            for v in verification.verifications_of(session, ticket_id=ticket_id)
        ]
    return feature


@router.post("/{ticket_id}/actions")
def act(
    ticket_id: RowId,
    body: ActionRequest,
    principal: CurrentPrincipal,
    engine: EngineDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """An officer's (or dispatcher's) action on a ticket; illegal moves answer 409."""
    if principal.role is Role.PLANNER:
        raise ProblemError(
            403, "Forbidden", "planners read tickets; officers and dispatchers act on them"
        )
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        _get(session, principal, ticket_id)
        actor = principal.name
        if body.action in _MOVES:
            row = service.transition(
                session,
                ticket_id=ticket_id,
                to=_MOVES[body.action],
                actor=actor,
                now=now,
                note=body.note,
                verification=config_from_settings(settings),
            )
        elif body.action is OfficerAction.REJECT:
            row = service.reject(
                session, ticket_id=ticket_id, actor=actor, reason=body.reason or "", now=now
            )
        else:
            if body.original_id is None:
                raise ProblemError(
                    422,
                    "Invalid request",
                    "duplicate needs original_id: the ticket this one repeats",
                )
            _get(session, principal, body.original_id)
            row = service.mark_duplicate(
                session, ticket_id=ticket_id, original_id=body.original_id, actor=actor, now=now
            )
        return _feature(row)
