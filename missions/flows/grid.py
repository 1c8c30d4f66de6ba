"""Build the unit grid from the stored geography and store it; grid statistics."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import Engine, func, select

from missions.errors import GridError
from missions.geo.layers import DEFAULT_REVISIT_S, LayerKind, PriorityClass
from missions.grid import Grid, GridAttributes, assign_attributes, build_grid
from missions.storage import load_boundary, load_layer, save_grid
from missions.storage.models import Cell

__all__ = ["GridBuild", "build_and_store", "build_cells", "grid_stats"]


@dataclass(frozen=True)
class GridBuild:
    grid: Grid
    cells: gpd.GeoDataFrame  # metric, with attributes


def build_cells(
    boundary: shapely.Geometry,
    attrs: GridAttributes,
    *,
    cell_size_m: float,
) -> GridBuild:
    """Grid plus attributes, in memory (the one-shot CLI form uses this without a database)."""
    grid = build_grid(boundary, cell_size_m)
    return GridBuild(grid, assign_attributes(grid, attrs))


def build_and_store(
    engine: Engine,
    *,
    cell_size_m: float,
    ceiling_m: float = 120.0,
    revisit_s: dict[PriorityClass, int] | None = None,
) -> GridBuild:
    """Rebuild the stored grid from the stored boundary and layers."""
    boundary = load_boundary(engine)
    if boundary is None:
        raise GridError(
            "no district boundary in the database; run `nestpatrol import boundary FILE` "
            "(or `nestpatrol init --demo`) first"
        )
    attrs = GridAttributes(
        jurisdictions=load_layer(engine, LayerKind.JURISDICTIONS),
        priority_areas=load_layer(engine, LayerKind.PRIORITY),
        nofly=load_layer(engine, LayerKind.NOFLY),
        revisit_s=revisit_s or dict(DEFAULT_REVISIT_S),
        ceiling_m=ceiling_m,
    )
    built = build_cells(boundary, attrs, cell_size_m=cell_size_m)
    save_grid(engine, built.grid, built.cells)
    return built


def grid_stats(engine: Engine) -> pd.DataFrame:
    """Cells and area (km²) per jurisdiction and priority class, plus no-fly cells."""
    query = (
        select(
            Cell.jurisdiction,
            Cell.priority,
            func.count().label("cells"),
            func.sum(Cell.area_m2).label("area_m2"),
            func.sum(func.cast(Cell.no_fly, type_=Cell.row.type)).label("no_fly_cells"),
        )
        .group_by(Cell.jurisdiction, Cell.priority)
        .order_by(Cell.jurisdiction, Cell.priority)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    frame = pd.DataFrame(
        rows, columns=["jurisdiction", "priority", "cells", "area_m2", "no_fly_cells"]
    )
    if frame.empty:
        raise GridError("no grid in the database; run `nestpatrol grid build` first")
    frame["jurisdiction"] = frame["jurisdiction"].fillna("(none)")
    frame["area_km2"] = frame.pop("area_m2") / 1e6
    return frame
