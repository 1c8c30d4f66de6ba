"""Storage: SQLAlchemy 2 + GeoAlchemy2 on a SQLite file (default) or PostgreSQL + PostGIS."""

from missions.storage.cells import BBox, load_cells, load_grid_info, save_grid
from missions.storage.engine import make_engine, require_schema, session_scope, upgrade
from missions.storage.geography import load_boundary, load_layer, save_layer
from missions.storage.nests import load_nests, save_nests

__all__ = [
    "BBox",
    "load_boundary",
    "load_cells",
    "load_grid_info",
    "load_layer",
    "load_nests",
    "make_engine",
    "require_schema",
    "save_grid",
    "save_layer",
    "save_nests",
    "session_scope",
    "upgrade",
]
