"""Open311 operations over tickets (keyword-only): services, create with idempotency, search."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import IdempotencyConflictError, NotFoundError
from api.open311.models import CreateRequest, Open311Status, Service, ServiceRequest
from api.tickets import service as tickets
from api.tickets.categories import CategoryTable
from api.tickets.locate import Locator
from api.tickets.models import IdempotencyKeyRow, TicketRow, TicketSource
from api.tickets.workflow import CLOSED, TicketStatus
from missions.storage import session_scope

__all__ = ["create_request", "find_requests", "get_request", "services", "to_open311"]

MAX_RESULTS = 1000
DEFAULT_WINDOW = timedelta(days=90)


def services(table: CategoryTable) -> list[Service]:
    return [
        Service(
            service_code=c.minor_code,
            service_name=c.name_en or c.name,
            description=f"{c.name} (handled within {c.handling_time_limit_h:g} h)",
            keywords=c.key,
            group=c.major_code,
        )
        for c in table.categories
    ]


def to_open311(row: TicketRow, table: CategoryTable) -> ServiceRequest:
    status = TicketStatus(row.status)
    notes = f"internal status: {status.value}"
    if row.reject_reason:
        notes += f"; rejected: {row.reject_reason}"
    if row.duplicate_of:
        notes += f"; duplicate of {row.duplicate_of}"
    try:
        name = table.by_code(row.minor_code)
        service_name = name.name_en or name.name
    except LookupError:
        service_name = row.category_name
    return ServiceRequest(
        service_request_id=str(row.id),
        status=Open311Status.CLOSED if status in CLOSED else Open311Status.OPEN,
        status_notes=notes,
        service_name=service_name,
        service_code=row.minor_code,
        description=row.description,
        agency_responsible=row.jurisdiction,
        requested_datetime=row.created_at,
        updated_datetime=row.updated_at,
        expected_datetime=row.sla_deadline,
        lat=row.lat,
        long=row.lon,
    )


def _fingerprint(req: CreateRequest) -> str:
    canonical = json.dumps(req.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def create_request(
    engine: Engine,
    *,
    req: CreateRequest,
    table: CategoryTable,
    idempotency_key: str | None,
    now: datetime | None = None,
) -> tuple[int, bool]:
    """File a request as a ``collected`` ticket; returns (ticket id, replayed?).

    With an ``Idempotency-Key``, the same key and the same parameters give the first ticket back
    (a retried POST files nothing twice); the key with other parameters is refused.
    """
    now = now or datetime.now(UTC)
    category = table.by_code(req.service_code)
    fingerprint = _fingerprint(req)
    if idempotency_key:
        earlier = _earlier(engine, idempotency_key, fingerprint)
        if earlier is not None:
            return earlier, True
    location = Locator(engine, [(req.long, req.lat)]).locate(req.long, req.lat)
    try:
        with session_scope(engine) as session:
            spec = tickets.TicketSpec(
                source=TicketSource.OPEN311,
                category=category,
                lon=req.long,
                lat=req.lat,
                location=location,
                description=req.description or category.name,
                evidence=[{"media_url": req.media_url}] if req.media_url else [],
            )
            actor = f"open311:{req.email or 'anonymous'}"
            row = tickets.create_ticket(session, spec=spec, actor=actor, now=now)
            if idempotency_key:
                session.add(
                    IdempotencyKeyRow(
                        key=idempotency_key,
                        request_sha256=fingerprint,
                        ticket_id=row.id,
                        created_at=now,
                    )
                )
            return row.id, False
    except IntegrityError:
        # the same key committed concurrently: answer with that request's ticket
        earlier = _earlier(engine, idempotency_key or "", fingerprint)
        if earlier is None:
            raise
        return earlier, True


def _earlier(engine: Engine, key: str, fingerprint: str) -> int | None:
    with Session(engine) as session:
        row = session.get(IdempotencyKeyRow, key)
        if row is None:
            return None
        if row.request_sha256 != fingerprint:
            raise IdempotencyConflictError(
                f"Idempotency-Key {key!r} was used for a different request; use a new key for "
                "a new request, or resend exactly the same parameters"
            )
        return row.ticket_id


def get_request(session: Session, *, ticket_id: int) -> TicketRow:
    row = session.get(TicketRow, ticket_id)
    if row is None:
        raise NotFoundError(f"no service request {ticket_id}")
    return row


def find_requests(
    session: Session,
    *,
    ids: Sequence[int] = (),
    service_codes: Sequence[str] = (),
    statuses: Sequence[Open311Status] = (),
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
) -> list[TicketRow]:
    """GeoReport search: by ids, or by codes/status/date range (default the last 90 days)."""
    query = select(TicketRow).order_by(TicketRow.created_at.desc()).limit(MAX_RESULTS)
    if ids:
        return list(session.scalars(query.where(TicketRow.id.in_(list(ids)))))
    end = end or now or datetime.now(UTC)
    start = start or end - DEFAULT_WINDOW
    query = query.where(TicketRow.created_at >= start, TicketRow.created_at <= end)
    if service_codes:
        query = query.where(TicketRow.minor_code.in_(list(service_codes)))
    closed = [s.value for s in CLOSED]
    if set(statuses) == {Open311Status.CLOSED}:
        query = query.where(TicketRow.status.in_(closed))
    elif set(statuses) == {Open311Status.OPEN}:
        query = query.where(TicketRow.status.not_in(closed))
    return list(session.scalars(query))
