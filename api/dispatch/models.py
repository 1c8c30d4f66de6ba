"""Tables of the transactional outbox, delivery attempts, endpoints and inbound callbacks.

An outbox event's ``body`` is the exact JSON text that is signed and sent, stored once, so a
retry days later sends byte-identical content under the same ``webhook-id``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from missions.storage.base import Base
from missions.storage.types import UtcDateTime

__all__ = [
    "DeliveryAttemptRow",
    "DeliveryStatus",
    "EndpointRow",
    "EventRead",
    "EventType",
    "InboundCallbackRow",
    "OutboxEventRow",
]


class EventType(StrEnum):
    TICKET_CREATED = "ticket.created"
    TICKET_STATUS_CHANGED = "ticket.status_changed"
    TICKET_OVERDUE = "ticket.overdue"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class OutboxEventRow(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_status", "status", "next_attempt_at"),
        Index("ix_outbox_events_ticket_id", "ticket_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(48))
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    jurisdiction: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)


class DeliveryAttemptRow(Base):
    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_event_id", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    worker: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float] = mapped_column(Float)


class EndpointRow(Base):
    """Where a jurisdiction's events go; jurisdiction ``*`` is the fallback."""

    __tablename__ = "dispatch_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(String(1000))
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class InboundCallbackRow(Base):
    """A status callback from dispatch, by its ``webhook-id``: applied at most once."""

    __tablename__ = "inbound_callbacks"

    webhook_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ticket_id: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(200))


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    event_type: EventType
    ticket_id: int | None
    jurisdiction: str | None
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
