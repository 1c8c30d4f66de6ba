"""Resolve the unit-grid cell and jurisdiction of ticket locations, many at a time.

One query for the cells around a batch of points (the stored grid carries each cell's
jurisdiction), then an STRtree lookup per point; points outside the grid fall back to the
jurisdiction polygons. Resolved once, at creation, and stored on the ticket: later grid
rebuilds must not silently move a ticket to another office.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from sqlalchemy import Engine

from missions.geo.layers import LayerKind
from missions.storage import BBox, load_cells, load_layer

__all__ = ["Location", "Locator"]


@dataclass(frozen=True)
class Location:
    cell_id: str | None
    jurisdiction: str | None


class Locator:
    """Point → (cell, jurisdiction) for the points it was built around."""

    def __init__(self, engine: Engine, points: Sequence[tuple[float, float]]) -> None:
        self._cells: list[tuple[str, str | None]] = []
        self._cell_tree: shapely.STRtree | None = None
        self._juris: list[str] = []
        self._juris_tree: shapely.STRtree | None = None
        if not points:
            return
        xs, ys = np.asarray(points, dtype=float).T
        pad = 0.002
        box = BBox(xs.min() - pad, ys.min() - pad, xs.max() + pad, ys.max() + pad)
        cells = load_cells(engine, bbox=box)
        if len(cells):
            self._cells = [
                (str(c), None if j is None else str(j))
                for c, j in zip(cells["cell_id"], cells["jurisdiction"], strict=True)
            ]
            self._cell_tree = shapely.STRtree(np.asarray(cells.geometry.values, dtype=object))
        juris = load_layer(engine, LayerKind.JURISDICTIONS)
        if len(juris):
            self._juris = [str(c) for c in juris["code"]]
            self._juris_tree = shapely.STRtree(np.asarray(juris.geometry.values, dtype=object))

    def locate(self, lon: float, lat: float) -> Location:
        point = shapely.Point(lon, lat)
        cell_id = jurisdiction = None
        if self._cell_tree is not None:
            hits = self._cell_tree.query(point, predicate="intersects")
            if len(hits):
                cell_id, jurisdiction = self._cells[int(min(hits))]
        if jurisdiction is None and self._juris_tree is not None:
            hits = self._juris_tree.query(point, predicate="intersects")
            if len(hits):
                jurisdiction = self._juris[int(min(hits))]
        return Location(cell_id, jurisdiction)
