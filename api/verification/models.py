"""The ``verifications`` table: one re-flight over a handled ticket's place, and its verdict."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import shapely
from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from missions.storage.base import Base
from missions.storage.models import gist
from missions.storage.types import GeometryType, UtcDateTime

__all__ = ["OPEN", "VerificationRead", "VerificationRow", "VerificationStatus"]


class VerificationStatus(StrEnum):
    """Where a verification stands.

    ``requested``: a sortie is planned and stored; ``flown``: the flight is back, its detections
    not judged yet; ``passed``/``failed``: judged (the violation is gone / still there);
    ``manual``: no drone can fly it (the reason says why), an officer verifies on site;
    ``cancelled``: the ticket left handled/feedback by hand, the flight is no longer wanted.
    """

    REQUESTED = "requested"
    FLOWN = "flown"
    PASSED = "passed"
    FAILED = "failed"
    MANUAL = "manual"
    CANCELLED = "cancelled"


#: verifications that still wait for a result (a flight's detections can still complete them)
OPEN: frozenset[VerificationStatus] = frozenset(
    {VerificationStatus.REQUESTED, VerificationStatus.FLOWN, VerificationStatus.MANUAL}
)


class VerificationRow(Base):
    """One verification of one ticket.

    ``sortie_id`` names a row of ``sorties`` (priority ``verification``) but is not a foreign
    key: re-planning the day replaces the stored schedule, and the verification's record of
    what was asked must outlive that.
    """

    __tablename__ = "verifications"
    __table_args__ = (
        gist("verifications"),
        Index("ix_verifications_ticket_id", "ticket_id"),
        Index("ix_verifications_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    requested_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    nest_id: Mapped[str | None] = mapped_column(String(64))
    sortie_id: Mapped[str | None] = mapped_column(String(64))
    planned_start: Mapped[datetime | None] = mapped_column(UtcDateTime())
    eta_s: Mapped[float | None] = mapped_column(Float)
    flown_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    flight_id: Mapped[str | None] = mapped_column(String(64))
    result_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    result_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    geom: Mapped[shapely.Geometry] = mapped_column(GeometryType("POLYGON"))


class VerificationRead(BaseModel):
    """A verification as the API and the CLI show it (the area is the GeoJSON geometry)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: int
    status: VerificationStatus
    requested_at: datetime
    requested_by: str
    reason: str | None
    nest_id: str | None
    sortie_id: str | None
    planned_start: datetime | None
    eta_s: float | None
    flown_at: datetime | None
    flight_id: str | None
    result_at: datetime | None
    result_detail: dict[str, Any] | None
    evidence: list[dict[str, Any]]
