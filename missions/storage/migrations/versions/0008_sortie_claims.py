"""sortie claims: one patrol controller per stored sortie

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import missions.storage.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "sorties",
        sa.Column("state", sa.String(length=16), server_default="planned", nullable=False),
    )
    op.add_column("sorties", sa.Column("claimed_by", sa.String(length=128), nullable=True))
    op.add_column(
        "sorties",
        sa.Column("claimed_at", missions.storage.types.UtcDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_sorties_state_start", "sorties", ["state", "planned_start"])


def downgrade() -> None:
    op.drop_index("ix_sorties_state_start", table_name="sorties")
    with op.batch_alter_table("sorties") as batch:
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_by")
        batch.drop_column("state")
