"""geography, grid and nests

Revision ID: 0001
Revises:
Create Date: 2026-11-23 16:02:38.288169
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import missions.storage.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _postgis() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgis():
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "cells",
        sa.Column("cell_id", sa.String(length=40), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("col", sa.Integer(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("minx", sa.Float(), nullable=False),
        sa.Column("miny", sa.Float(), nullable=False),
        sa.Column("maxx", sa.Float(), nullable=False),
        sa.Column("maxy", sa.Float(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=64), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("revisit_target_s", sa.Integer(), nullable=False),
        sa.Column("no_fly", sa.Boolean(), nullable=False),
        sa.Column("geom", missions.storage.types.GeometryType("MULTIPOLYGON"), nullable=False),
        sa.PrimaryKeyConstraint("cell_id", name=op.f("pk_cells")),
    )
    with op.batch_alter_table("cells", schema=None) as batch_op:
        batch_op.create_index("ix_cells_bbox", ["minx", "miny"], unique=False)
        if _postgis():
            batch_op.create_index("ix_cells_geom", ["geom"], unique=False, postgresql_using="gist")
        batch_op.create_index("ix_cells_jurisdiction", ["jurisdiction"], unique=False)

    op.create_table(
        "district",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("imported_at", missions.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("geom", missions.storage.types.GeometryType("MULTIPOLYGON"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district")),
    )
    with op.batch_alter_table("district", schema=None) as batch_op:
        if _postgis():
            batch_op.create_index(
                "ix_district_geom", ["geom"], unique=False, postgresql_using="gist"
            )

    op.create_table(
        "grid_info",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cell_size_m", sa.Float(), nullable=False),
        sa.Column("crs_epsg", sa.Integer(), nullable=False),
        sa.Column("cell_count", sa.Integer(), nullable=False),
        sa.Column("district_area_m2", sa.Float(), nullable=False),
        sa.Column("merged_slivers", sa.Integer(), nullable=False),
        sa.Column("built_at", missions.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_info")),
    )
    op.create_table(
        "jurisdictions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("dispatch_contact", sa.String(length=500), nullable=True),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.Column("geom", missions.storage.types.GeometryType("MULTIPOLYGON"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jurisdictions")),
        sa.UniqueConstraint("code", name=op.f("uq_jurisdictions_code")),
    )
    with op.batch_alter_table("jurisdictions", schema=None) as batch_op:
        if _postgis():
            batch_op.create_index(
                "ix_jurisdictions_geom", ["geom"], unique=False, postgresql_using="gist"
            )

    op.create_table(
        "nests",
        sa.Column("nest_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("ground_elevation_m", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("battery_mode", sa.String(length=16), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.Column("geom", missions.storage.types.GeometryType("POINT"), nullable=False),
        sa.PrimaryKeyConstraint("nest_id", name=op.f("pk_nests")),
    )
    with op.batch_alter_table("nests", schema=None) as batch_op:
        if _postgis():
            batch_op.create_index("ix_nests_geom", ["geom"], unique=False, postgresql_using="gist")

    op.create_table(
        "nofly_zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("floor_m", sa.Float(), nullable=True),
        sa.Column("ceiling_m", sa.Float(), nullable=True),
        sa.Column("active_from", missions.storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("active_to", missions.storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("daily_start", sa.String(length=5), nullable=True),
        sa.Column("daily_end", sa.String(length=5), nullable=True),
        sa.Column("geom", missions.storage.types.GeometryType("MULTIPOLYGON"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nofly_zones")),
    )
    with op.batch_alter_table("nofly_zones", schema=None) as batch_op:
        if _postgis():
            batch_op.create_index(
                "ix_nofly_zones_geom", ["geom"], unique=False, postgresql_using="gist"
            )

    op.create_table(
        "permits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("permit_no", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("valid_from", missions.storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("valid_to", missions.storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("geom", missions.storage.types.GeometryType("MULTIPOLYGON"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permits")),
    )
    with op.batch_alter_table("permits", schema=None) as batch_op:
        if _postgis():
            batch_op.create_index(
                "ix_permits_geom", ["geom"], unique=False, postgresql_using="gist"
            )

    op.create_table(
        "priority_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("geom", missions.storage.types.GeometryType("MULTIPOLYGON"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_priority_areas")),
    )
    with op.batch_alter_table("priority_areas", schema=None) as batch_op:
        if _postgis():
            batch_op.create_index(
                "ix_priority_areas_geom", ["geom"], unique=False, postgresql_using="gist"
            )


def downgrade() -> None:
    for table in (
        "priority_areas",
        "permits",
        "nofly_zones",
        "nests",
        "jurisdictions",
        "grid_info",
        "district",
        "cells",
    ):
        op.drop_table(table)
