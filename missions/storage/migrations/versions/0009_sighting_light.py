"""clue sightings: the light measured around the object (work-light evidence at night)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("clue_sightings", sa.Column("light", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clue_sightings") as batch:
        batch.drop_column("light")
