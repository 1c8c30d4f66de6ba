"""Seeded generators for planner tests: cell blobs, districts, nests and no-fly zones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from pyproj import CRS

from missions.fleet import Nest
from missions.geo.layers import PriorityClass
from missions.planning.cells import CellTable
from missions.planning.frame import MetricFrame
from missions.planning.nofly import NoFlyZone


def cell_blob(seed: int, n_cells: int, cell_m: float = 100.0) -> shapely.Geometry:
    """A connected random union of ``n_cells`` grid squares (a grown blob; often concave)."""
    rng = np.random.default_rng(seed)
    cells = {(0, 0)}
    steps = [(1, 0), (-1, 0), (0, 1), (0, -1)]
    while len(cells) < n_cells:
        c = sorted(cells)[int(rng.integers(len(cells)))]
        d = steps[int(rng.integers(4))]
        cells.add((c[0] + d[0], c[1] + d[1]))
    boxes = [
        shapely.box(x * cell_m, y * cell_m, (x + 1) * cell_m, (y + 1) * cell_m) for x, y in cells
    ]
    return shapely.union_all(boxes)


def random_polygon(seed: int, n_vertices: int = 12, radius_m: float = 800.0) -> shapely.Geometry:
    """A star-shaped random polygon (concave), valid by construction."""
    rng = np.random.default_rng(seed)
    angles = np.sort(rng.uniform(0, 2 * np.pi, n_vertices))
    radii = rng.uniform(0.35, 1.0, n_vertices) * radius_m
    return shapely.Polygon(np.column_stack([radii * np.cos(angles), radii * np.sin(angles)]))


# --- small worlds: a district of square cells in UTM 49N, nests and no-fly zones ---------------


TZ = ZoneInfo("Asia/Shanghai")
ORIGIN = (740_000.0, 2_540_000.0)  # metres in UTM 49N, near Guangzhou
FRAME = MetricFrame(CRS.from_epsg(32649))


@dataclass(frozen=True)
class World:
    cells: CellTable
    nests: list[Nest]
    zones: list[NoFlyZone]


def make_world(seed: int, *, n_cells: int = 300, n_nests: int = 2, n_zones: int = 2) -> World:
    """A random blob district with a core patch, nests on cells, and discs as no-fly zones.

    Zone k is permanent when k is even, else active 09:00–11:00 local with a 0–150 m band.
    """
    rng = np.random.default_rng(seed)
    blob = cell_blob(seed, n_cells)
    boxes = [shapely.Polygon(np.asarray(p.exterior.coords)) for p in _squares(blob)]
    geoms = np.array([shapely.affinity.translate(b, *ORIGIN) for b in boxes], dtype=object)
    cent = shapely.centroid(geoms)
    xy = np.column_stack([shapely.get_x(cent), shapely.get_y(cent)])
    core_at = xy[int(rng.integers(len(xy)))]
    near = np.hypot(*(xy - core_at).T) < 400.0
    pri = [PriorityClass.CORE if c else PriorityClass.STANDARD for c in near]
    zones = []
    for k in range(n_zones):
        centre = xy[int(rng.integers(len(xy)))] + rng.normal(0, 150, 2)
        disc = shapely.Point(*centre).buffer(float(rng.uniform(60, 250)), quad_segs=4)
        windowed = k % 2 == 1
        zones.append(
            NoFlyZone(
                name=f"z{k}",
                geometry=disc,
                floor_m=0.0 if windowed else None,
                ceiling_m=150.0 if windowed else None,
                daily_start=time(9, 0) if windowed else None,
                daily_end=time(11, 0) if windowed else None,
            )
        )
    keep = np.ones(len(xy), dtype=bool)
    points = np.asarray(shapely.points(xy), dtype=object)
    for z in zones:
        keep &= ~shapely.intersects(shapely.buffer(z.geometry, 60.0), points)
    spots = xy[keep]
    picks = spots[rng.choice(len(spots), size=min(n_nests, len(spots)), replace=False)]
    lonlat = FRAME.to_wgs84(picks)
    nests = [Nest(f"N{i}", float(lo), float(la)) for i, (lo, la) in enumerate(lonlat)]
    cells = CellTable.from_geometries(geoms, pri)
    return World(cells, nests, zones)


def _squares(blob: shapely.Geometry) -> list[shapely.Polygon]:
    minx, miny, maxx, maxy = (int(v) for v in shapely.bounds(blob))
    out = []
    for x in range(minx, maxx, 100):
        for y in range(miny, maxy, 100):
            sq = shapely.box(x, y, x + 100, y + 100)
            if shapely.area(shapely.intersection(sq, blob)) > 5000:
                out.append(sq)
    return out


@pytest.fixture(scope="session")
def world() -> World:
    return make_world(11, n_cells=350, n_nests=2, n_zones=2)


START = datetime(2026, 11, 24, tzinfo=TZ)
START_UTC = START.astimezone(UTC)
