"""Tables and schemas of clues: one clue per real-world object, every sighting kept.

On SQLite, clues and observed areas carry their WGS-84 bounding box in plain indexed columns so
the clustering can prefilter candidates without spatial SQL; on PostgreSQL the geometry columns
also get GiST indexes.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import shapely
from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from missions.storage.base import Base
from missions.storage.models import gist
from missions.storage.types import GeometryType, UtcDateTime

__all__ = [
    "ClueRead",
    "ClueRow",
    "ClueStatus",
    "ObservedAreaRow",
    "RuleFiring",
    "RuleName",
    "SightingRead",
    "SightingRow",
]


class ClueStatus(StrEnum):
    """What the rules made of a clue; only ``active`` clues become tickets.

    ``unconfirmed``: a structure seen only in night hours, waiting for a daylight look, or a
    clue the rules would make active whose best score is below the activation floor, waiting
    for a surer sighting.
    """

    ACTIVE = "active"
    SUPPRESSED = "suppressed"
    BASELINE = "baseline"
    UNCONFIRMED = "unconfirmed"


class RuleName(StrEnum):
    """The rules that can fire on a clue (recorded with their reason)."""

    PERMIT = "permit"
    DISPOSAL_SITE = "disposal_site"
    NIGHT_HOURS = "night_hours"
    NIGHT_WORK_PERMIT = "night_work_permit"
    DAYTIME_ACTIVITY = "daytime_activity"
    BASELINE = "baseline"
    NEW_STRUCTURE = "new_structure"
    NEW_DUMPING = "new_dumping"
    NIGHT_ONLY = "night_only"
    UNLIT_AT_NIGHT = "unlit_at_night"
    LOW_CONFIDENCE = "low_confidence"


class RuleFiring(BaseModel):
    """A rule that fired on a clue and why (kept on the clue for officers and audits)."""

    model_config = ConfigDict(frozen=True)

    rule: RuleName
    reason: str


class ClueRow(Base):
    __tablename__ = "clues"
    __table_args__ = (
        gist("clues"),
        Index("ix_clues_bbox", "minx", "miny"),
        Index("ix_clues_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    detection_class: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float)
    sighting_count: Mapped[int] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    minx: Mapped[float] = mapped_column(Float)
    miny: Mapped[float] = mapped_column(Float)
    maxx: Mapped[float] = mapped_column(Float)
    maxy: Mapped[float] = mapped_column(Float)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    geom: Mapped[shapely.Geometry] = mapped_column(GeometryType("MULTIPOLYGON"))


class SightingRow(Base):
    """One detection merged into a clue, with its evidence crop (or only a frame reference)."""

    __tablename__ = "clue_sightings"
    __table_args__ = (
        Index("ix_clue_sightings_clue_id", "clue_id"),
        Index("ix_clue_sightings_crop_sha256", "crop_sha256"),  # evidence by hash (0007)
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clue_id: Mapped[int] = mapped_column(ForeignKey("clues.id", ondelete="CASCADE"))
    score: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(500))
    frame_path: Mapped[str | None] = mapped_column(String(1000))
    observed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    pixel_box: Mapped[list[int] | None] = mapped_column(JSON)
    light: Mapped[float | None] = mapped_column(Float)  # work-light evidence (0009)
    crop_sha256: Mapped[str | None] = mapped_column(String(64))
    crop_path: Mapped[str | None] = mapped_column(String(500))
    geom: Mapped[shapely.Geometry] = mapped_column(GeometryType("MULTIPOLYGON"))


class ObservedAreaRow(Base):
    """Ground seen in imagery at a time: the baseline a new structure is judged against."""

    __tablename__ = "observed_areas"
    __table_args__ = (gist("observed_areas"), Index("ix_observed_areas_bbox", "minx", "miny"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(500))
    observed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    minx: Mapped[float] = mapped_column(Float)
    miny: Mapped[float] = mapped_column(Float)
    maxx: Mapped[float] = mapped_column(Float)
    maxy: Mapped[float] = mapped_column(Float)
    geom: Mapped[shapely.Geometry] = mapped_column(GeometryType("MULTIPOLYGON"))


class SightingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    score: float
    source: str
    frame_path: str | None
    observed_at: datetime
    light: float | None = None
    crop_sha256: str | None
    crop_path: str | None


class ClueRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    detection_class: str
    status: ClueStatus
    category: str | None
    confidence: float
    sighting_count: int
    first_seen_at: datetime
    last_seen_at: datetime
    lon: float
    lat: float
    rules: list[RuleFiring]
