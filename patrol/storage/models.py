"""Flights, their frames, and the cell sightings derived from the frames' footprints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import shapely
from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from missions.storage.base import Base
from missions.storage.models import gist
from missions.storage.types import GeometryType, UtcDateTime


class Flight(Base):
    """One flown sortie. ``track`` is the flown path; ``track_times`` its vertex times (epoch s)."""

    __tablename__ = "flights"
    __table_args__ = (
        Index("ix_flights_track", "track", postgresql_using="gist").ddl_if(dialect="postgresql"),
        Index("ix_flights_started_at", "started_at"),
    )

    flight_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nest_id: Mapped[str | None] = mapped_column(String(64))
    sortie_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime())
    outcome: Mapped[str] = mapped_column(String(16))
    battery_used_fraction: Mapped[float | None] = mapped_column(Float)
    track: Mapped[shapely.Geometry | None] = mapped_column(GeometryType("LINESTRING"))
    track_times: Mapped[list[float] | None] = mapped_column(JSON)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Frame(Base):
    """One captured image with its pose and ground footprint (WGS-84)."""

    __tablename__ = "frames"
    __table_args__ = (gist("frames"), Index("ix_frames_flight_id", "flight_id"))

    frame_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    flight_id: Mapped[str] = mapped_column(ForeignKey("flights.flight_id", ondelete="CASCADE"))
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime())
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    alt_m: Mapped[float | None] = mapped_column(Float)
    image_path: Mapped[str | None] = mapped_column(String(500))
    geom: Mapped[shapely.Geometry] = mapped_column(GeometryType("POLYGON"))


class CellSighting(Base):
    """A cell imaged by a flight (≥ the configured fraction of it), at ``seen_at``."""

    __tablename__ = "cell_sightings"
    __table_args__ = (
        Index("ix_cell_sightings_cell_seen", "cell_id", "seen_at"),
        Index("ix_cell_sightings_seen_at", "seen_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cell_id: Mapped[str] = mapped_column(String(40))
    flight_id: Mapped[str] = mapped_column(ForeignKey("flights.flight_id", ondelete="CASCADE"))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    fraction: Mapped[float] = mapped_column(Float)
