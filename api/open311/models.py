"""Open311 GeoReport v2 documents (https://wiki.open311.org/GeoReport_v2), as pydantic models.

Coordinates are WGS-84 ``lat``/``long``; our seven-step workflow is projected onto the two
GeoReport states: ``closed`` once verified and closed, evaluated, rejected or a duplicate,
``open`` otherwise (the internal state travels in ``status_notes``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CreateRequest",
    "CreatedRequest",
    "Open311Error",
    "Open311Status",
    "Service",
    "ServiceRequest",
]


class Open311Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool = False
    type: str = "realtime"
    keywords: str = ""
    group: str


class CreateRequest(BaseModel):
    """The POST parameters we use (others are accepted and ignored, as the spec allows)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    service_code: str = Field(min_length=1)
    lat: float = Field(ge=-90, le=90)
    long: float = Field(ge=-180, le=180)
    description: str = Field(default="", max_length=4000)
    address_string: str | None = None
    email: str | None = None
    media_url: str | None = None


class CreatedRequest(BaseModel):
    service_request_id: str
    service_notice: str = ""
    account_id: str | None = None


class ServiceRequest(BaseModel):
    service_request_id: str
    status: Open311Status
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str | None
    service_notice: str = ""
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime
    address: str | None = None
    lat: float
    long: float
    media_url: str | None = None


class Open311Error(BaseModel):
    code: int
    description: str
