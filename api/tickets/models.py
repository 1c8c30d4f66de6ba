"""Tables and schemas of tickets, their audited transitions and idempotency keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import shapely
from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.tickets.categories import Severity
from api.tickets.workflow import TicketStatus
from missions.storage.base import Base
from missions.storage.models import gist
from missions.storage.types import GeometryType, UtcDateTime

__all__ = [
    "IdempotencyKeyRow",
    "TicketRead",
    "TicketRow",
    "TicketSource",
    "TransitionRead",
    "TransitionRow",
]


class TicketSource(StrEnum):
    CLUE = "clue"
    OPEN311 = "open311"


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        gist("tickets"),
        Index("ix_tickets_status", "status"),
        Index("ix_tickets_status_lon_lat", "status", "lon", "lat"),  # the map's list (0007)
        Index("ix_tickets_jurisdiction", "jurisdiction"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clue_id: Mapped[int | None] = mapped_column(ForeignKey("clues.id"), unique=True)
    source: Mapped[str] = mapped_column(String(16))
    category_key: Mapped[str] = mapped_column(String(64))
    major_code: Mapped[str] = mapped_column(String(16))
    minor_code: Mapped[str] = mapped_column(String(16))
    category_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(24))
    severity: Mapped[str] = mapped_column(String(16))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    gcj_lon: Mapped[float] = mapped_column(Float)
    gcj_lat: Mapped[float] = mapped_column(Float)
    cell_id: Mapped[str | None] = mapped_column(String(40))
    jurisdiction: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sla_deadline: Mapped[datetime] = mapped_column(UtcDateTime())
    overdue: Mapped[bool] = mapped_column(Boolean)
    sequence: Mapped[int] = mapped_column(Integer)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[shapely.Geometry] = mapped_column(GeometryType("POINT"))


class TransitionRow(Base):
    """One audited step: who moved the ticket from where to where, when and why."""

    __tablename__ = "ticket_transitions"
    __table_args__ = (Index("ix_ticket_transitions_ticket_id", "ticket_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    note: Mapped[str | None] = mapped_column(Text)


class IdempotencyKeyRow(Base):
    """A create request seen before: the same key and body give the same ticket back."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TransitionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: TicketStatus | None
    to_status: TicketStatus
    actor: str
    at: datetime
    note: str | None


class TicketRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    clue_id: int | None
    source: TicketSource
    category_key: str
    major_code: str
    minor_code: str
    category_name: str
    status: TicketStatus
    severity: Severity
    lon: float
    lat: float
    gcj_lon: float
    gcj_lat: float
    cell_id: str | None
    jurisdiction: str | None
    description: str
    evidence: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    sla_deadline: datetime
    overdue: bool
    sequence: int
    duplicate_of: int | None
    reject_reason: str | None
