"""indexes for the ticket map list and evidence lookups

The dispatcher map asks for tickets of one status in a viewport (``status = ? AND lon BETWEEN ?
AND lat BETWEEN ? ORDER BY id LIMIT ?``). With only ``ix_tickets_status`` PostgreSQL either
walks the primary key and filters (the whole table when the viewport holds fewer than a page) or
reads every ticket of the status; on 100,000 tickets that put the query's p99 near 100 ms before
any HTTP work (benchmarks/api_load.py). ``(status, lon, lat)`` answers the status and the
longitude range from the index and checks the latitude there too, on SQLite and PostgreSQL alike.
Evidence crops are fetched by content hash: ``clue_sightings.crop_sha256`` is indexed for that.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 12:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_status_lon_lat", "tickets", ["status", "lon", "lat"])
    op.create_index("ix_clue_sightings_crop_sha256", "clue_sightings", ["crop_sha256"])


def downgrade() -> None:
    op.drop_index("ix_clue_sightings_crop_sha256", table_name="clue_sightings")
    op.drop_index("ix_tickets_status_lon_lat", table_name="tickets")
