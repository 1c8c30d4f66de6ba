"""The outbox: enqueue in the caller's transaction, claim with a lease, record outcomes.

Claiming is safe with many workers: on PostgreSQL candidate rows are locked with
``FOR UPDATE SKIP LOCKED`` (workers never wait on each other nor take the same row); on SQLite
one ``UPDATE … WHERE id IN (SELECT …) RETURNING`` statement takes the write lock for the whole
claim. A claim is a lease: a worker killed mid-delivery leaves rows that another worker takes
once ``claimed_until`` has passed — delivery is at least once; receivers dedupe on the id.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from api.dispatch.config import RetryPolicy
from api.dispatch.models import (
    DeliveryAttemptRow,
    DeliveryStatus,
    EndpointRow,
    EventType,
    OutboxEventRow,
)
from api.dispatch.signing import decode_secret, new_secret
from api.errors import DeliveryConfigError, NotFoundError
from missions.storage.types import UtcDateTime

__all__ = [
    "DEFAULT_JURISDICTION",
    "Outcome",
    "claim_batch",
    "endpoint_for",
    "enqueue_event",
    "list_endpoints",
    "list_events",
    "record_outcomes",
    "replay",
    "set_endpoint",
]

DEFAULT_JURISDICTION = "*"


def enqueue_event(
    session: Session,
    *,
    event_type: EventType,
    data: Mapping[str, Any],
    ticket_id: int | None,
    jurisdiction: str | None,
    now: datetime,
) -> OutboxEventRow:
    """Add an event to the outbox in the caller's transaction (commits with the change)."""
    event_id = f"evt_{uuid.uuid4().hex}"
    envelope = {
        "id": event_id,
        "type": event_type.value,
        "timestamp": now.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": dict(data),
    }
    row = OutboxEventRow(
        id=event_id,
        event_type=event_type.value,
        ticket_id=ticket_id,
        jurisdiction=jurisdiction,
        body=json.dumps(envelope, separators=(",", ":"), ensure_ascii=False, sort_keys=True),
        status=DeliveryStatus.PENDING.value,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    return row


def claim_batch(
    engine: Engine, *, worker: str, limit: int, lease_s: float, now: datetime | None = None
) -> list[OutboxEventRow]:
    """Lease up to ``limit`` due events to ``worker``; returns them oldest first."""
    now = now or datetime.now(UTC)
    due = and_(
        OutboxEventRow.status == DeliveryStatus.PENDING.value,
        OutboxEventRow.next_attempt_at <= now,
        or_(OutboxEventRow.claimed_until.is_(None), OutboxEventRow.claimed_until < now),
    )
    pick = (
        select(OutboxEventRow.id)
        .where(due)
        .order_by(OutboxEventRow.next_attempt_at, OutboxEventRow.created_at)
        .limit(limit)
    )
    lease = {"claimed_by": worker, "claimed_until": now + timedelta(seconds=lease_s)}
    with Session(engine, expire_on_commit=False) as session, session.begin():
        if engine.dialect.name == "postgresql":
            ids = list(session.scalars(pick.with_for_update(skip_locked=True)))
            if not ids:
                return []
            stmt = update(OutboxEventRow).where(OutboxEventRow.id.in_(ids))
        else:
            stmt = update(OutboxEventRow).where(due, OutboxEventRow.id.in_(pick.scalar_subquery()))
        claimed = list(
            session.scalars(
                stmt.values(**lease).returning(OutboxEventRow),
                execution_options={"synchronize_session": False},
            )
        )
    return sorted(claimed, key=lambda r: (r.next_attempt_at, r.created_at))


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt came to (``status_code`` is ``None`` without a response)."""

    event: OutboxEventRow
    delivered: bool
    duration_ms: float
    status_code: int | None = None
    error: str | None = None
    retry_after_s: float | None = None
    permanent: bool = False


_OUTCOME = (
    update(OutboxEventRow)
    .where(OutboxEventRow.id == bindparam("e_id"), OutboxEventRow.status != "delivered")
    .values(
        status=bindparam("e_status"),
        attempts=OutboxEventRow.attempts + 1,
        next_attempt_at=bindparam("e_next", type_=UtcDateTime()),
        delivered_at=bindparam("e_delivered", type_=UtcDateTime()),
        claimed_by=None,
        claimed_until=None,
        last_status_code=bindparam("e_code"),
        last_error=bindparam("e_error"),
    )
)


def _next_state(
    o: Outcome, policy: RetryPolicy, rng: random.Random, now: datetime
) -> tuple[DeliveryStatus, datetime]:
    if o.delivered:
        return DeliveryStatus.DELIVERED, now
    delay = max(policy.delay_s(o.event.attempts + 1, rng), o.retry_after_s or 0.0)
    next_at = now + timedelta(seconds=delay)
    horizon = o.event.created_at + timedelta(seconds=policy.horizon_s)
    past = o.permanent or next_at > horizon
    return (DeliveryStatus.DEAD if past else DeliveryStatus.PENDING), next_at


def record_outcomes(
    engine: Engine,
    *,
    outcomes: Sequence[Outcome],
    worker: str,
    policy: RetryPolicy,
    rng: random.Random,
) -> list[DeliveryStatus]:
    """Write a batch of attempts in one transaction: delivered, retry later, or dead.

    A failed event waits per ``policy`` (or longer if the receiver sent ``Retry-After``) and is
    dead-lettered once the next try would fall past the horizon, or at once if ``permanent``.
    Batching the writes keeps delivery fast; a worker killed before writing them re-sends those
    events later under the same ``webhook-id``, which receivers dedupe.
    """
    now = datetime.now(UTC)
    params, attempts, statuses = [], [], []
    for o in outcomes:
        status, next_at = _next_state(o, policy, rng, now)
        error = o.error[:2000] if o.error else None
        statuses.append(status)
        params.append(
            {
                "e_id": o.event.id,
                "e_status": status.value,
                "e_next": next_at,
                "e_delivered": now if o.delivered else None,
                "e_code": o.status_code,
                "e_error": error,
            }
        )
        attempts.append(
            {
                "event_id": o.event.id,
                "attempt": o.event.attempts + 1,
                "at": now,
                "worker": worker,
                "status_code": o.status_code,
                "error": error,
                "duration_ms": o.duration_ms,
            }
        )
    if params:
        with engine.begin() as conn:
            conn.execute(_OUTCOME, params)
            conn.execute(insert(DeliveryAttemptRow), attempts)
    return statuses


def list_events(
    session: Session, *, status: DeliveryStatus | None = None, limit: int = 100
) -> list[OutboxEventRow]:
    query = select(OutboxEventRow).order_by(OutboxEventRow.created_at).limit(limit)
    if status is not None:
        query = query.where(OutboxEventRow.status == status.value)
    return list(session.scalars(query))


def replay(session: Session, *, event_ids: Sequence[str], now: datetime) -> int:
    """Put dead-lettered events back in the queue (same id, same body), due now."""
    rows = list(session.scalars(select(OutboxEventRow).where(OutboxEventRow.id.in_(event_ids))))
    missing = sorted(set(event_ids) - {r.id for r in rows})
    if missing:
        raise NotFoundError(
            f"no outbox event {', '.join(missing)}; see `nestpatrol deliveries list --status dead`"
        )
    count = 0
    for row in rows:
        if row.status == DeliveryStatus.DEAD.value:
            row.status = DeliveryStatus.PENDING.value
            row.next_attempt_at = now
            row.created_at = now  # the retry horizon restarts from the replay
            row.claimed_by = row.claimed_until = None
            count += 1
    return count


def set_endpoint(
    session: Session, *, jurisdiction: str, url: str, secret: str | None, now: datetime
) -> EndpointRow:
    """Create or replace a jurisdiction's endpoint (``*`` is the fallback for all others)."""
    if not url.startswith(("http://", "https://")):
        raise DeliveryConfigError(f"endpoint URL {url!r} must start with http:// or https://")
    secret = secret or new_secret()
    decode_secret(secret)  # refuses a malformed secret now, not at the first delivery
    row = session.scalars(
        select(EndpointRow).where(EndpointRow.jurisdiction == jurisdiction)
    ).first()
    if row is None:
        row = EndpointRow(jurisdiction=jurisdiction, created_at=now)
        session.add(row)
    row.url, row.secret, row.active = url, secret, True
    return row


def list_endpoints(session: Session) -> list[EndpointRow]:
    return list(session.scalars(select(EndpointRow).order_by(EndpointRow.jurisdiction)))


def endpoint_for(session: Session, *, jurisdiction: str | None) -> EndpointRow | None:
    """The active endpoint of ``jurisdiction``, else the ``*`` fallback, else ``None``."""
    names = [n for n in (jurisdiction, DEFAULT_JURISDICTION) if n]
    rows = {
        r.jurisdiction: r
        for r in session.scalars(
            select(EndpointRow).where(EndpointRow.jurisdiction.in_(names), EndpointRow.active)
        )
    }
    return next((rows[n] for n in names if n in rows), None)
