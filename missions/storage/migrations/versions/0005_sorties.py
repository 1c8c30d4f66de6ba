"""planned sorties

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 17:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import missions.storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sorties",
        sa.Column("sortie_id", sa.String(length=64), nullable=False),
        sa.Column("nest_id", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column(
            "planned_start", missions.storage.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("cell_ids", sa.JSON(), nullable=False),
        sa.Column("waypoints", sa.JSON(), nullable=False),
        sa.Column("created_at", missions.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("geom", missions.storage.types.GeometryType("LINESTRING"), nullable=False),
        sa.PrimaryKeyConstraint("sortie_id", name=op.f("pk_sorties")),
    )
    op.create_index("ix_sorties_nest_start", "sorties", ["nest_id", "planned_start"])
    if op.get_context().dialect.name == "postgresql":
        op.create_index("ix_sorties_geom", "sorties", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_table("sorties")
