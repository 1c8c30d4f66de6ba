"""clues, tickets and dispatch

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import missions.storage.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UtcDateTime = missions.storage.types.UtcDateTime
GeometryType = missions.storage.types.GeometryType


def _postgis() -> bool:
    return op.get_context().dialect.name == "postgresql"


def _gist(table: str) -> None:
    if _postgis():
        op.create_index(f"ix_{table}_geom", table, ["geom"], unique=False, postgresql_using="gist")


def _bbox_columns() -> list[sa.Column[float]]:
    return [sa.Column(c, sa.Float(), nullable=False) for c in ("minx", "miny", "maxx", "maxy")]


def upgrade() -> None:
    op.create_table(
        "clues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("detection_class", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("sighting_count", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        *_bbox_columns(),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("geom", GeometryType("MULTIPOLYGON"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clues")),
    )
    op.create_index("ix_clues_bbox", "clues", ["minx", "miny"], unique=False)
    op.create_index("ix_clues_status", "clues", ["status"], unique=False)
    _gist("clues")

    op.create_table(
        "clue_sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clue_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("frame_path", sa.String(length=1000), nullable=True),
        sa.Column("observed_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("pixel_box", sa.JSON(), nullable=True),
        sa.Column("crop_sha256", sa.String(length=64), nullable=True),
        sa.Column("crop_path", sa.String(length=500), nullable=True),
        sa.Column("geom", GeometryType("MULTIPOLYGON"), nullable=False),
        sa.ForeignKeyConstraint(
            ["clue_id"],
            ["clues.id"],
            name=op.f("fk_clue_sightings_clue_id_clues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clue_sightings")),
    )
    op.create_index("ix_clue_sightings_clue_id", "clue_sightings", ["clue_id"], unique=False)

    op.create_table(
        "observed_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("observed_at", UtcDateTime(timezone=True), nullable=False),
        *_bbox_columns(),
        sa.Column("geom", GeometryType("MULTIPOLYGON"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observed_areas")),
    )
    op.create_index("ix_observed_areas_bbox", "observed_areas", ["minx", "miny"], unique=False)
    _gist("observed_areas")

    _tickets()
    _dispatch()


def _tickets() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clue_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("category_key", sa.String(length=64), nullable=False),
        sa.Column("major_code", sa.String(length=16), nullable=False),
        sa.Column("minor_code", sa.String(length=16), nullable=False),
        sa.Column("category_name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("gcj_lon", sa.Float(), nullable=False),
        sa.Column("gcj_lat", sa.Float(), nullable=False),
        sa.Column("cell_id", sa.String(length=40), nullable=True),
        sa.Column("jurisdiction", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("sla_deadline", UtcDateTime(timezone=True), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("reject_reason", sa.Text(), nullable=True),
        sa.Column("geom", GeometryType("POINT"), nullable=False),
        sa.ForeignKeyConstraint(["clue_id"], ["clues.id"], name=op.f("fk_tickets_clue_id_clues")),
        sa.ForeignKeyConstraint(
            ["duplicate_of"], ["tickets.id"], name=op.f("fk_tickets_duplicate_of_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint("clue_id", name=op.f("uq_tickets_clue_id")),
    )
    op.create_index("ix_tickets_jurisdiction", "tickets", ["jurisdiction"], unique=False)
    op.create_index("ix_tickets_status", "tickets", ["status"], unique=False)
    _gist("tickets")

    op.create_table(
        "ticket_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_transitions_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_transitions")),
    )
    op.create_index(
        "ix_ticket_transitions_ticket_id", "ticket_transitions", ["ticket_id"], unique=False
    )

    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_idempotency_keys_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_idempotency_keys")),
    )


def _dispatch() -> None:
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("event_type", sa.String(length=48), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("jurisdiction", sa.String(length=64), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", UtcDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_events")),
    )
    op.create_index(
        "ix_outbox_events_status", "outbox_events", ["status", "next_attempt_at"], unique=False
    )
    op.create_index("ix_outbox_events_ticket_id", "outbox_events", ["ticket_id"], unique=False)

    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["outbox_events.id"],
            name=op.f("fk_delivery_attempts_event_id_outbox_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    op.create_index(
        "ix_delivery_attempts_event_id", "delivery_attempts", ["event_id"], unique=False
    )

    op.create_table(
        "dispatch_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_endpoints")),
        sa.UniqueConstraint("jurisdiction", name=op.f("uq_dispatch_endpoints_jurisdiction")),
    )
    op.create_table(
        "inbound_callbacks",
        sa.Column("webhook_id", sa.String(length=200), nullable=False),
        sa.Column("received_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("webhook_id", name=op.f("pk_inbound_callbacks")),
    )


def downgrade() -> None:
    for table in (
        "inbound_callbacks",
        "dispatch_endpoints",
        "delivery_attempts",
        "outbox_events",
        "idempotency_keys",
        "ticket_transitions",
        "tickets",
        "observed_areas",
        "clue_sightings",
        "clues",
    ):
        op.drop_table(table)
