"""Tables for geography, the unit grid and nests. Later issues add flights, clues, tickets.

Geometries are WGS-84 (see :mod:`missions.storage.types`). On PostgreSQL every geometry column
has a GiST index; on SQLite, cells also carry their bounding box in plain columns for indexed
prefiltering before the exact shapely test.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import shapely
from sqlalchemy import JSON, Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from missions.storage.base import Base
from missions.storage.types import GeometryType, UtcDateTime


def gist(table: str) -> Index:
    """GiST index on ``geom``, created on PostgreSQL only."""
    return Index(f"ix_{table}_geom", "geom", postgresql_using="gist").ddl_if(dialect="postgresql")


class District(Base):
    __tablename__ = "district"
    __table_args__ = (gist("district"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(500))
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    geom: Mapped[shapely.Geometry] = mapped_column(GeometryType("MULTIPOLYGON"))


class Jurisdiction(Base):
    __tablename__ = "jurisdictions"
    __table_args__ = (gist("jurisdictions"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(32))
    dispatch_contact: Mapped[str | None] = mapped_column(String(500))
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)
    geom: Mapped[shapely.Geometry] = mapped_column(GeometryType("MULTIPOLYGON"))


class NoFlyZone(Base):
    __tablename__ = "nofly_zones"
    __table_args__ = (gist("nofly_zones"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    floor_m: Mapped[float | None] = mapped_column(Float)
    ceiling_m: Mapped[float | None] = mapped_column(Float)
    active_from: Mapped[datetime | None] = mapped_column(UtcDateTime())
    active_to: Mapped[datetime | None] = mapped_column(UtcDateTime())
    daily_start: Mapped[str | None] = mapped_column(String(5))
    daily_end: Mapped[str | None] = mapped_column(String(5))
    geom: Mapped[shapely.Geometry] = mapped_column(GeometryType("MULTIPOLYGON"))


class PriorityArea(Base):
    __tablename__ = "priority_areas"
    __table_args__ = (gist("priority_areas"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    priority: Mapped[str] = mapped_column(String(16))
    geom: Mapped[shapely.Geometry] = mapped_column(GeometryType("MULTIPOLYGON"))


class Permit(Base):
    __tablename__ = "permits"
    __table_args__ = (gist("permits"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    permit_no: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[datetime | None] = mapped_column(UtcDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UtcDateTime())
    geom: Mapped[shapely.Geometry] = mapped_column(GeometryType("MULTIPOLYGON"))


class GridInfo(Base):
    """The grid in force (one row): how it was built, so a rebuild can be compared."""

    __tablename__ = "grid_info"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cell_size_m: Mapped[float] = mapped_column(Float)
    crs_epsg: Mapped[int] = mapped_column(Integer)
    cell_count: Mapped[int] = mapped_column(Integer)
    district_area_m2: Mapped[float] = mapped_column(Float)
    merged_slivers: Mapped[int] = mapped_column(Integer)
    built_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Cell(Base):
    __tablename__ = "cells"
    __table_args__ = (
        gist("cells"),
        Index("ix_cells_bbox", "minx", "miny"),
        Index("ix_cells_jurisdiction", "jurisdiction"),
    )

    cell_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    row: Mapped[int] = mapped_column(Integer)
    col: Mapped[int] = mapped_column(Integer)
    area_m2: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    minx: Mapped[float] = mapped_column(Float)
    miny: Mapped[float] = mapped_column(Float)
    maxx: Mapped[float] = mapped_column(Float)
    maxy: Mapped[float] = mapped_column(Float)
    jurisdiction: Mapped[str | None] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(16))
    revisit_target_s: Mapped[int] = mapped_column(Integer)
    no_fly: Mapped[bool] = mapped_column(Boolean)
    geom: Mapped[shapely.Geometry] = mapped_column(GeometryType("MULTIPOLYGON"))


class NestRow(Base):
    """A dock. The drone profile is kept as JSON (see :class:`missions.fleet.DroneProfile`)."""

    __tablename__ = "nests"
    __table_args__ = (gist("nests"),)

    nest_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    ground_elevation_m: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    battery_mode: Mapped[str] = mapped_column(String(16))
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    geom: Mapped[shapely.Geometry] = mapped_column(GeometryType("POINT"))


class SortieRow(Base):
    """A planned sortie: waypoints (JSON, WGS-84, heights above the nest) and its path."""

    __tablename__ = "sorties"
    __table_args__ = (
        gist("sorties"),
        Index("ix_sorties_nest_start", "nest_id", "planned_start"),
        Index("ix_sorties_state_start", "state", "planned_start"),
    )

    sortie_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nest_id: Mapped[str] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(16))
    planned_start: Mapped[datetime | None] = mapped_column(UtcDateTime())
    duration_s: Mapped[float] = mapped_column(Float)
    cell_ids: Mapped[list[str]] = mapped_column(JSON)
    waypoints: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    geom: Mapped[shapely.Geometry] = mapped_column(GeometryType("LINESTRING"))
    # claimed by one patrol controller at a time (see missions.storage.claims)
    state: Mapped[str] = mapped_column(String(16), server_default="planned")
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
