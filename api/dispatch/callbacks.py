"""Inbound status callbacks from dispatch: verified, then applied at most once.

A callback is a Standard Webhooks request signed with the endpoint secret of the ticket's
jurisdiction; its body is ``{"ticket_id": 12, "status": "handled", "actor": "officer:wang",
"note": "...", "reason": "...", "original_id": 7}``. The ``webhook-id`` is recorded in the
same transaction as the ticket change, so a retried callback is answered without applying twice
(and a callback asking for the state the ticket is already in is a no-op).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.dispatch.models import InboundCallbackRow
from api.dispatch.service import endpoint_for
from api.dispatch.signing import DEFAULT_TOLERANCE_S, verify
from api.errors import ApiError, SignatureError
from api.tickets import service as tickets
from api.tickets.workflow import TicketStatus
from missions.storage import session_scope

__all__ = ["CallbackBody", "CallbackResult", "apply_callback"]


class CallbackBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    ticket_id: int
    status: TicketStatus
    actor: str
    note: str | None = None
    reason: str | None = None
    original_id: int | None = None


@dataclass(frozen=True)
class CallbackResult:
    webhook_id: str
    ticket_id: int
    outcome: str
    replayed: bool


def apply_callback(
    engine: Engine,
    *,
    headers: Mapping[str, str],
    body: str,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: datetime | None = None,
) -> CallbackResult:
    """Verify a callback against its jurisdiction's secret and apply it idempotently."""
    now = now or datetime.now(UTC)
    try:
        msg = CallbackBody.model_validate(json.loads(body))
    except (ValueError, ValidationError) as e:
        raise ApiError(
            f"callback body is not valid: {e}; send JSON with ticket_id, status and actor"
        ) from e
    with Session(engine) as session:
        ticket = tickets.get_ticket(session, ticket_id=msg.ticket_id)
        endpoint = endpoint_for(session, jurisdiction=ticket.jurisdiction)
    if endpoint is None:
        raise SignatureError(
            f"no endpoint secret for jurisdiction {ticket.jurisdiction!r} to verify with; "
            "configure it with `nestpatrol endpoints set`"
        )
    webhook_id = verify(endpoint.secret, headers, body, tolerance_s=tolerance_s, now=now)
    try:
        with session_scope(engine) as session:
            seen = session.get(InboundCallbackRow, webhook_id)
            if seen is not None:
                return CallbackResult(webhook_id, seen.ticket_id, seen.outcome, replayed=True)
            outcome = _apply(session, msg, now)
            session.add(
                InboundCallbackRow(
                    webhook_id=webhook_id, received_at=now, ticket_id=msg.ticket_id, outcome=outcome
                )
            )
    except IntegrityError:
        # the same webhook-id committed concurrently by another request: report that one
        with Session(engine) as session:
            seen = session.get(InboundCallbackRow, webhook_id)
            if seen is None:
                raise
            return CallbackResult(webhook_id, seen.ticket_id, seen.outcome, replayed=True)
    return CallbackResult(webhook_id, msg.ticket_id, outcome, replayed=False)


def _apply(session: Session, msg: CallbackBody, now: datetime) -> str:
    row = tickets.get_ticket(session, ticket_id=msg.ticket_id, lock=True)
    if row.status == msg.status.value:
        return f"already {msg.status.value}"
    if msg.status is TicketStatus.REJECTED:
        tickets.reject(
            session,
            ticket_id=row.id,
            actor=msg.actor,
            reason=msg.reason or msg.note or "",
            now=now,
        )
    elif msg.status is TicketStatus.DUPLICATE and msg.original_id is not None:
        tickets.mark_duplicate(
            session, ticket_id=row.id, original_id=msg.original_id, actor=msg.actor, now=now
        )
    else:
        tickets.transition(
            session, ticket_id=row.id, to=msg.status, actor=msg.actor, now=now, note=msg.note
        )
    return f"applied {msg.status.value}"
