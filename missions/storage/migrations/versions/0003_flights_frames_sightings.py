"""flights, frames and cell sightings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:32:41
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import missions.storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _postgis() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "flights",
        sa.Column("flight_id", sa.String(length=64), nullable=False),
        sa.Column("nest_id", sa.String(length=64), nullable=True),
        sa.Column("sortie_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", missions.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", missions.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("battery_used_fraction", sa.Float(), nullable=True),
        sa.Column("track", missions.storage.types.GeometryType("LINESTRING"), nullable=True),
        sa.Column("track_times", sa.JSON(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("flight_id", name=op.f("pk_flights")),
    )
    op.create_index("ix_flights_started_at", "flights", ["started_at"])
    op.create_table(
        "cell_sightings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cell_id", sa.String(length=40), nullable=False),
        sa.Column("flight_id", sa.String(length=64), nullable=False),
        sa.Column("seen_at", missions.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("fraction", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["flight_id"],
            ["flights.flight_id"],
            name=op.f("fk_cell_sightings_flight_id_flights"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cell_sightings")),
    )
    op.create_index("ix_cell_sightings_cell_seen", "cell_sightings", ["cell_id", "seen_at"])
    op.create_index("ix_cell_sightings_seen_at", "cell_sightings", ["seen_at"])
    op.create_table(
        "frames",
        sa.Column("frame_id", sa.String(length=80), nullable=False),
        sa.Column("flight_id", sa.String(length=64), nullable=False),
        sa.Column("taken_at", missions.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("alt_m", sa.Float(), nullable=True),
        sa.Column("image_path", sa.String(length=500), nullable=True),
        sa.Column("geom", missions.storage.types.GeometryType("POLYGON"), nullable=False),
        sa.ForeignKeyConstraint(
            ["flight_id"],
            ["flights.flight_id"],
            name=op.f("fk_frames_flight_id_flights"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("frame_id", name=op.f("pk_frames")),
    )
    op.create_index("ix_frames_flight_id", "frames", ["flight_id"])
    if _postgis():
        op.create_index("ix_flights_track", "flights", ["track"], postgresql_using="gist")
        op.create_index("ix_frames_geom", "frames", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    for table in ("frames", "cell_sightings", "flights"):
        op.drop_table(table)
