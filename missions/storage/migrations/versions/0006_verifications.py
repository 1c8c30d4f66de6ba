"""verification flights over handled tickets

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import missions.storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UtcDateTime = missions.storage.types.UtcDateTime
GeometryType = missions.storage.types.GeometryType


def upgrade() -> None:
    op.create_table(
        "verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("nest_id", sa.String(length=64), nullable=True),
        sa.Column("sortie_id", sa.String(length=64), nullable=True),
        sa.Column("planned_start", UtcDateTime(timezone=True), nullable=True),
        sa.Column("eta_s", sa.Float(), nullable=True),
        sa.Column("flown_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("flight_id", sa.String(length=64), nullable=True),
        sa.Column("result_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("result_detail", sa.JSON(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("geom", GeometryType("POLYGON"), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_verifications_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verifications")),
    )
    op.create_index("ix_verifications_ticket_id", "verifications", ["ticket_id"], unique=False)
    op.create_index("ix_verifications_status", "verifications", ["status"], unique=False)
    if op.get_context().dialect.name == "postgresql":
        op.create_index("ix_verifications_geom", "verifications", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    op.drop_table("verifications")
