"""Ticket workflow operations (keyword-only; the caller owns the session and transaction).

Every change writes its audit row and its outbox event in the caller's transaction, so a
ticket change and the event that announces it commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.dispatch.models import EventType
from api.dispatch.service import enqueue_event
from api.errors import ApiError, IllegalTransitionError, NotFoundError
from api.tickets.categories import Category, Severity
from api.tickets.locate import Location
from api.tickets.models import TicketRead, TicketRow, TicketSource, TransitionRow
from api.tickets.workflow import ALLOWED, CLOSED, REOPEN_TARGET, TicketStatus
from missions.geo.crs import wgs84_to_gcj02

if TYPE_CHECKING:
    from api.verification.config import VerificationConfig

__all__ = [
    "TicketSpec",
    "create_ticket",
    "create_tickets",
    "flag_overdue",
    "get_ticket",
    "history",
    "list_tickets",
    "mark_duplicate",
    "reject",
    "reopen",
    "ticket_payload",
    "transition",
]


def ticket_payload(row: TicketRow) -> dict[str, Any]:
    """The ticket as dispatch receives it (JSON-ready; RFC 7946 lon/lat plus GCJ-02)."""
    data = TicketRead.model_validate(row).model_dump(mode="json")
    data["open311_status"] = "closed" if TicketStatus(row.status) in CLOSED else "open"
    return data


@dataclass(frozen=True)
class TicketSpec:
    """What a new ticket is made from (a clue, or an Open311 request)."""

    source: TicketSource
    category: Category
    lon: float
    lat: float
    location: Location
    description: str
    evidence: list[dict[str, Any]] = field(default_factory=list)
    clue_id: int | None = None


def create_tickets(
    session: Session, *, specs: Sequence[TicketSpec], actor: str, now: datetime
) -> list[TicketRow]:
    """New tickets in ``collected``, SLA deadlines from their categories' time limits.

    Made in bulk (one GCJ-02 conversion, one round of INSERTs) because a busy flight can yield
    hundreds of clues at once; each ticket still gets its own audit row and outbox event.
    """
    if not specs:
        return []
    glon, glat = wgs84_to_gcj02([s.lon for s in specs], [s.lat for s in specs])
    rows = [
        TicketRow(
            clue_id=spec.clue_id,
            source=spec.source.value,
            category_key=spec.category.key,
            major_code=spec.category.major_code,
            minor_code=spec.category.minor_code,
            category_name=spec.category.name,
            status=TicketStatus.COLLECTED.value,
            severity=spec.category.severity.value,
            lon=spec.lon,
            lat=spec.lat,
            gcj_lon=float(glon[i]),
            gcj_lat=float(glat[i]),
            cell_id=spec.location.cell_id,
            jurisdiction=spec.location.jurisdiction,
            description=spec.description,
            evidence=spec.evidence,
            created_at=now,
            updated_at=now,
            sla_deadline=now + spec.category.handling_time_limit,
            overdue=False,
            sequence=1,
            duplicate_of=None,
            geom=shapely.Point(spec.lon, spec.lat),
        )
        for i, spec in enumerate(specs)
    ]
    session.add_all(rows)
    session.flush()
    for row in rows:
        _audit(session, row, None, TicketStatus.COLLECTED, actor=actor, now=now, note=None)
        _announce(session, row, EventType.TICKET_CREATED, now)
    return rows


def create_ticket(session: Session, *, spec: TicketSpec, actor: str, now: datetime) -> TicketRow:
    """One new ticket (see :func:`create_tickets`)."""
    return create_tickets(session, specs=[spec], actor=actor, now=now)[0]


def get_ticket(session: Session, *, ticket_id: int, lock: bool = False) -> TicketRow:
    """The ticket, row-locked (``FOR UPDATE`` on PostgreSQL) when it is about to change."""
    row = session.get(TicketRow, ticket_id, with_for_update=lock or None)
    if row is None:
        raise NotFoundError(f"no ticket {ticket_id}; list tickets with `nestpatrol tickets list`")
    return row


def transition(
    session: Session,
    *,
    ticket_id: int,
    to: TicketStatus,
    actor: str,
    now: datetime,
    note: str | None = None,
    verification: VerificationConfig | None = None,
) -> TicketRow:
    """Move a ticket along one workflow edge; anything else raises with the allowed edges.

    Moving to ``handled`` requests a verification flight in the same transaction (planned with
    ``verification``, default settings otherwise); leaving handled/feedback cancels an open one.
    """
    row = get_ticket(session, ticket_id=ticket_id, lock=True)
    current = TicketStatus(row.status)
    if to not in ALLOWED[current]:
        raise IllegalTransitionError(ticket_id, current.value, to.value, ALLOWED[current])
    row.status = to.value
    row.updated_at = now
    row.sequence += 1
    if to in CLOSED:
        row.overdue = False
    _audit(session, row, current, to, actor=actor, now=now, note=note)
    _announce(session, row, EventType.TICKET_STATUS_CHANGED, now)
    # verification builds on this module, so it is imported here, when first needed
    from api.verification.service import on_ticket_transition  # noqa: PLC0415

    on_ticket_transition(
        session, ticket=row, before=current, after=to, actor=actor, now=now, config=verification
    )
    return row


def reject(
    session: Session, *, ticket_id: int, actor: str, reason: str, now: datetime
) -> TicketRow:
    """A false positive: kept, with its reason, in the hard-negative list for retraining."""
    if not reason.strip():
        raise ApiError("a rejection needs a reason (what the detector mistook for a violation)")
    row = transition(
        session, ticket_id=ticket_id, to=TicketStatus.REJECTED, actor=actor, now=now, note=reason
    )
    row.reject_reason = reason
    return row


def mark_duplicate(
    session: Session, *, ticket_id: int, original_id: int, actor: str, now: datetime
) -> TicketRow:
    if original_id == ticket_id:
        raise ApiError(f"ticket {ticket_id} cannot be a duplicate of itself; give the original")
    get_ticket(session, ticket_id=original_id)
    row = transition(
        session,
        ticket_id=ticket_id,
        to=TicketStatus.DUPLICATE,
        actor=actor,
        now=now,
        note=f"duplicate of ticket {original_id}",
    )
    row.duplicate_of = original_id
    return row


def reopen(
    session: Session, *, ticket_id: int, actor: str, reason: str, now: datetime
) -> TicketRow:
    """Reopen a closed ticket: back to the officer if it was fixed, else back to filing."""
    row = get_ticket(session, ticket_id=ticket_id, lock=True)
    current = TicketStatus(row.status)
    target = REOPEN_TARGET.get(current)
    if target is None:
        closed = ", ".join(sorted(s.value for s in REOPEN_TARGET))
        raise IllegalTransitionError(ticket_id, current.value, f"reopen (only from {closed})", [])
    row = transition(session, ticket_id=ticket_id, to=target, actor=actor, now=now, note=reason)
    row.reject_reason = None
    row.duplicate_of = None
    row.sla_deadline = max(row.sla_deadline, now + (row.sla_deadline - row.created_at))
    return row


def flag_overdue(session: Session, *, now: datetime, actor: str = "sla") -> list[int]:
    """Flag open tickets past their deadline, escalate their severity once, announce them."""
    query = (
        select(TicketRow)
        .where(
            TicketRow.sla_deadline < now,
            TicketRow.overdue.is_(False),
            TicketRow.status.not_in([s.value for s in CLOSED]),
        )
        .with_for_update(skip_locked=True)
    )
    flagged = []
    for row in session.scalars(query):
        row.overdue = True
        row.severity = Severity(row.severity).escalated().value
        row.updated_at = now
        row.sequence += 1
        note = f"overdue since {row.sla_deadline:%Y-%m-%d %H:%M} UTC; escalated to {row.severity}"
        status = TicketStatus(row.status)
        _audit(session, row, status, status, actor=actor, now=now, note=note)
        _announce(session, row, EventType.TICKET_OVERDUE, now)
        flagged.append(row.id)
    return flagged


def history(session: Session, *, ticket_id: int) -> list[TransitionRow]:
    get_ticket(session, ticket_id=ticket_id)
    query = select(TransitionRow).where(TransitionRow.ticket_id == ticket_id)
    return list(session.scalars(query.order_by(TransitionRow.id)))


def list_tickets(
    session: Session,
    *,
    statuses: Sequence[TicketStatus] = (),
    jurisdiction: str | None = None,
    overdue: bool | None = None,
    source: TicketSource | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[TicketRow]:
    query = select(TicketRow).order_by(TicketRow.id).limit(limit).offset(offset)
    if statuses:
        query = query.where(TicketRow.status.in_([s.value for s in statuses]))
    if jurisdiction is not None:
        query = query.where(TicketRow.jurisdiction == jurisdiction)
    if overdue is not None:
        query = query.where(TicketRow.overdue.is_(overdue))
    if source is not None:
        query = query.where(TicketRow.source == source.value)
    return list(session.scalars(query))


def _audit(
    session: Session,
    row: TicketRow,
    from_status: TicketStatus | None,
    to_status: TicketStatus,
    *,
    actor: str,
    now: datetime,
    note: str | None,
) -> None:
    if not actor.strip():
        raise ApiError("every ticket change needs an actor (user, officer or system name)")
    session.add(
        TransitionRow(
            ticket_id=row.id,
            from_status=from_status.value if from_status else None,
            to_status=to_status.value,
            actor=actor,
            at=now,
            note=note,
        )
    )


def _announce(session: Session, row: TicketRow, event_type: EventType, now: datetime) -> None:
    enqueue_event(
        session,
        event_type=event_type,
        data=ticket_payload(row),
        ticket_id=row.id,
        jurisdiction=row.jurisdiction,
        now=now,
    )
