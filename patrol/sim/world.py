"""The simulated ground-truth world of a district: sampled blocks, their scenes and violations.

Only part of a district is simulated: a set of square blocks, one per sampled unit-grid cell and
aligned to it, chosen uniformly at random within each priority class by a seeded generator
**before and independently of any content**. Which frames reach the detector therefore depends
on where the blocks are, never on what they contain. Outside the blocks nothing is rendered.
Each block holds a static scene from the detection package's generator and violations that come
and go over simulated time (:mod:`patrol.sim.dynamics`); :meth:`SimWorld.views` renders the part
of any frame footprint that falls inside blocks (:mod:`patrol.sim.render`).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from shapely.geometry import Polygon, box
from shapely.strtree import STRtree

from detection.synthetic.layout import WorldConfig, generate_background
from missions.geo.layers import PermitKind, PriorityClass
from patrol.sim.dynamics import (
    Block,
    Dynamics,
    NightHours,
    PermitArea,
    SimWorldError,
    Violation,
    sample_violations,
)
from patrol.sim.render import BlockRenderer, BlockScene, CacheInfo, View

__all__ = ["Fidelity", "SimWorld", "build_world", "sample_blocks"]

FloatXY = NDArray[np.float64]
_DEFAULT_BLOCKS: Mapping[str, int] = MappingProxyType({"core": 12, "standard": 8, "low": 4})


@dataclass(frozen=True)
class Fidelity:
    """How much of the district is simulated and how finely; stated in every report.

    ``blocks`` is the number of blocks per priority class; ``permit_blocks`` adds blocks over
    permitted sites (the permit layer is public, not ground truth) so the permit rule is
    exercised; ``cache_blocks`` bounds the block renders kept in memory (≈6 MB each at 7 cm).
    """

    render_gsd_m: float = 0.07
    block_size_m: float = 100.0
    blocks: Mapping[str, int] = field(default_factory=lambda: _DEFAULT_BLOCKS)
    permit_blocks: int = 2
    cache_blocks: int = 48

    def __post_init__(self) -> None:
        if not (0.005 <= self.render_gsd_m <= 1.0):
            raise SimWorldError(
                f"render_gsd_m={self.render_gsd_m} is outside 0.005..1 m; the detector was "
                "trained at 0.044–0.0875 m per input pixel"
            )
        if not (10.0 <= self.block_size_m <= 1000.0):
            raise SimWorldError(f"block_size_m={self.block_size_m} is outside 10..1000 m")
        known = {p.value for p in PriorityClass}
        unknown = sorted(set(self.blocks) - known)
        if unknown:
            raise SimWorldError(
                f"unknown priority classes {unknown} in blocks; use {sorted(known)}"
            )
        if any(n < 0 for n in self.blocks.values()) or self.permit_blocks < 0:
            raise SimWorldError("block counts must be ≥ 0")
        if self.cache_blocks < 1:
            raise SimWorldError("cache_blocks must be ≥ 1")

    def describe(self) -> dict[str, object]:
        """The fidelity as plain values for reports."""
        return {
            "render_gsd_m": self.render_gsd_m,
            "block_size_m": self.block_size_m,
            "blocks_per_class": dict(self.blocks),
            "permit_blocks": self.permit_blocks,
            "cache_blocks": self.cache_blocks,
            "outside_blocks": "not simulated (no frames rendered)",
            "block_selection": "uniform per priority class, seeded, independent of content",
        }


class SimWorld:
    """A seeded simulated district: blocks, ground truth over time, and a renderer."""

    def __init__(
        self,
        *,
        scenes: tuple[BlockScene, ...],
        fidelity: Fidelity,
        crs: CRS,
        horizon: tuple[datetime, datetime],
        night: NightHours,
    ) -> None:
        self.fidelity = fidelity
        self.crs = crs
        self.start, self.end = horizon
        self.night = night
        self._scenes = {s.block.block_id: s for s in scenes}
        self.blocks: tuple[Block, ...] = tuple(s.block for s in scenes)
        self.violations: tuple[Violation, ...] = tuple(v for s in scenes for v, _ in s.violations)
        self._tree = STRtree([b.polygon for b in self.blocks])
        self._to_metric = Transformer.from_crs(CRS.from_epsg(4326), crs, always_xy=True)
        self._renderer = BlockRenderer(
            gsd_m=fidelity.render_gsd_m, crs=crs, capacity=fidelity.cache_blocks
        )

    @property
    def simulated_area_km2(self) -> float:
        """Area of all blocks together."""
        return sum(b.size_m**2 for b in self.blocks) / 1e6

    def is_night(self, t: datetime) -> bool:
        """Whether ``t`` is in the world's night hours (night frames, night-only machinery)."""
        return self.night.contains(t)

    def truth(self, block_id: str | None = None) -> list[Violation]:
        """Every violation over the horizon, or those of one block."""
        if block_id is not None and block_id not in self._scenes:
            raise SimWorldError(f"no block {block_id!r}; see SimWorld.blocks for the ids")
        return [v for v in self.violations if block_id is None or v.block_id == block_id]

    def scene(self, block_id: str) -> BlockScene:
        """A block's background and violations (block-local metres), e.g. to render it whole."""
        if block_id not in self._scenes:
            raise SimWorldError(f"no block {block_id!r}; see SimWorld.blocks for the ids")
        return self._scenes[block_id]

    def blocks_touching(self, footprint: Polygon) -> list[Block]:
        """Blocks a WGS-84 footprint intersects (an STRtree query, no rendering)."""
        hits = self._tree.query(footprint, predicate="intersects")
        return [self.blocks[int(i)] for i in sorted(hits)]

    def views(self, footprint: Polygon, taken_at: datetime) -> list[View]:
        """What a nadir frame with WGS-84 ``footprint`` taken at ``taken_at`` shows, per block."""
        touched = self.blocks_touching(footprint)
        if not touched:
            return []
        metric = shapely.transform(footprint, _xy(self._to_metric))
        night = self.is_night(taken_at)
        views = [
            self._renderer.view(self._scenes[b.block_id], metric, taken_at, night) for b in touched
        ]
        return [v for v in views if v is not None]

    def cache_info(self) -> CacheInfo:
        """Block-render cache counters."""
        return self._renderer.cache_info()

    def describe(self) -> dict[str, object]:
        """Fidelity plus what was built, for reports."""
        return {
            **self.fidelity.describe(),
            "blocks": len(self.blocks),
            "simulated_area_km2": round(self.simulated_area_km2, 4),
            "violations": len(self.violations),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "night_hours": f"{self.night.start:%H:%M}–{self.night.end:%H:%M} {self.night.tz.key}",
        }


def _xy(tr: Transformer) -> Callable[[FloatXY], FloatXY]:
    def apply(xy: FloatXY) -> FloatXY:
        x, y = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return apply


def _check_cells(cells: gpd.GeoDataFrame) -> pd.DataFrame:
    missing = {"cell_id", "priority"} - set(cells.columns)
    if missing:
        raise SimWorldError(
            f"cells lack columns {sorted(missing)}; "
            "pass the unit grid (missions.storage.load_cells)"
        )
    if cells.crs is None:
        raise SimWorldError("cells have no CRS; load them with load_cells (WGS-84)")
    table: pd.DataFrame = cells.sort_values("cell_id", kind="stable").reset_index(drop=True)
    return table


class _Sampler:
    """Snaps sampled cells to grid-aligned squares and turns them into blocks (no overlaps)."""

    def __init__(self, cells: gpd.GeoDataFrame, crs: CRS, size_m: float) -> None:
        self.cells = cells
        self.size_m = size_m
        self.crs = crs
        self._to_metric = Transformer.from_crs(cells.crs, crs, always_xy=True)
        self._to_wgs84 = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True)
        self.taken: set[tuple[int, int]] = set()
        self.blocks: list[Block] = []

    def take(self, order: NDArray[np.intp], count: int, reason: str) -> None:
        """Add blocks for the first ``count`` cells of ``order`` whose square is still free."""
        added = 0
        for i in order:
            if added >= count:
                return
            row = self.cells.iloc[int(i)]
            p = shapely.point_on_surface(row.geometry)
            x, y = self._to_metric.transform(p.x, p.y)
            key = (math.floor(x / self.size_m), math.floor(y / self.size_m))
            if key in self.taken:
                continue
            self.taken.add(key)
            self.blocks.append(self._block(row, key, reason))
            added += 1

    def _block(self, row: pd.Series, key: tuple[int, int], reason: str) -> Block:
        s = self.size_m
        bounds = (key[0] * s, key[1] * s, (key[0] + 1) * s, (key[1] + 1) * s)
        square = shapely.segmentize(box(*bounds), s / 4)
        jur = row.get("jurisdiction")
        return Block(
            block_id=f"B-{row['cell_id']}",
            cell_id=str(row["cell_id"]),
            priority=str(row["priority"]),
            jurisdiction=None if jur is None or pd.isna(jur) else str(jur),
            polygon=shapely.transform(square, _xy(self._to_wgs84)),
            bounds_m=bounds,
            reason=reason,
        )


def _valid_permits(
    permits: gpd.GeoDataFrame | None, crs: CRS, horizon: tuple[datetime, datetime]
) -> gpd.GeoDataFrame:
    """Permits valid at some time of the horizon, in the metric CRS."""
    if permits is None or len(permits) == 0:
        return gpd.GeoDataFrame({"kind": []}, geometry=[], crs=crs)
    starts = _times(permits, "valid_from")
    ends = _times(permits, "valid_to")
    keep = [
        (a is None or a < horizon[1]) and (b is None or b >= horizon[0])
        for a, b in zip(starts, ends, strict=True)
    ]
    return permits[keep].to_crs(crs)


def _times(table: pd.DataFrame, column: str) -> list[datetime | None]:
    """A validity column as aware datetimes (naive ones taken as UTC; missing → None)."""
    if column not in table.columns:
        return [None] * len(table)
    out: list[datetime | None] = []
    for v in table[column]:
        if v is None or pd.isna(v):
            out.append(None)
            continue
        t = pd.Timestamp(v).to_pydatetime()
        out.append(t if t.tzinfo is not None else t.replace(tzinfo=UTC))
    return out


def _permit_areas(permits: gpd.GeoDataFrame, block: Block) -> list[PermitArea]:
    x0, y0 = block.bounds_m[:2]
    out = []
    for kind, geom in zip(
        permits.get("kind", pd.Series([PermitKind.CONSTRUCTION.value] * len(permits))),
        permits.geometry,
        strict=True,
    ):
        if geom is None or not geom.intersects(box(*block.bounds_m)):
            continue
        local = shapely.affinity.translate(geom, -x0, -y0)
        for part in shapely.get_parts(local):
            if isinstance(part, Polygon):
                out.append(PermitArea(PermitKind(str(kind)), part))
    return out


def _background_config(size_m: float) -> WorldConfig:
    """The detection generator's densities (tuned for 60 m worlds) scaled to a block."""
    k = (size_m / 60.0) ** 2
    return WorldConfig(
        size_m=size_m, violations=0.0, confusers=5.0 * k, buildings=2.0 * k, trees=6.0 * k
    )


def _stream(seed: int, purpose: int, name: str) -> np.random.Generator:
    return np.random.default_rng([seed, purpose, zlib.crc32(name.encode())])


def sample_blocks(
    cells: gpd.GeoDataFrame,
    *,
    crs: CRS,
    seed: int,
    fidelity: Fidelity | None = None,
    permits: gpd.GeoDataFrame | None = None,
) -> list[Block]:
    """The simulated blocks: per class, a seeded uniform sample of its cells, then permit blocks.

    Each class draws from its own seeded stream over the cells sorted by id, so the sample does
    not depend on row order, on other classes' counts, or on anything inside the blocks. Cells
    marked ``no_fly`` are never sampled: no drone would image them.
    ``permits`` (any CRS) are the ones in force; blocks over them come last.
    """
    fid = fidelity or Fidelity()
    table = _check_cells(cells)
    sampler = _Sampler(table, crs, fid.block_size_m)
    flyable = ~table["no_fly"].eq(True).to_numpy() if "no_fly" in table else True
    for cls in sorted(fid.blocks):
        members = np.flatnonzero((table["priority"].astype(str).to_numpy() == cls) & flyable)
        order = members[_stream(seed, 1, cls).permutation(len(members))]
        sampler.take(order, fid.blocks[cls], cls)
    if fid.permit_blocks and permits is not None and len(permits):
        zone = permits.to_crs(table.crs).geometry.union_all()
        near = np.flatnonzero(shapely.intersects(np.asarray(table.geometry.values), zone) & flyable)
        order = near[_stream(seed, 2, "permit").permutation(len(near))]
        sampler.take(order, fid.permit_blocks, "permit")
    return sampler.blocks


def build_world(
    cells: gpd.GeoDataFrame,
    *,
    crs: CRS,
    start: datetime,
    hours: float,
    seed: int,
    fidelity: Fidelity | None = None,
    dynamics: Dynamics | None = None,
    permits: gpd.GeoDataFrame | None = None,
    tz: ZoneInfo | None = None,
    night_hours: tuple[time, time] = (time(22, 0), time(6, 0)),
) -> SimWorld:
    """Sample the blocks, lay out their scenes and draw their violations over ``hours``.

    ``cells`` is the unit grid (``cell_id``, ``priority``, optional ``jurisdiction``; any CRS),
    ``crs`` the metric CRS of the grid (its UTM zone). Blocks depend on ``cells``, ``seed``,
    ``fidelity`` and ``permits`` only — never on ``dynamics`` or on any scene content.
    """
    fid = fidelity or Fidelity()
    dyn = dynamics or Dynamics()
    if start.tzinfo is None or not (hours > 0 and math.isfinite(hours)):
        raise SimWorldError(
            f"need an aware start time and hours > 0, got start={start.isoformat()} hours={hours}"
        )
    horizon = (start, start + timedelta(hours=hours))
    night = NightHours(night_hours[0], night_hours[1], tz or ZoneInfo("Asia/Shanghai"))
    valid = _valid_permits(permits, crs, horizon)
    blocks = sample_blocks(cells, crs=crs, seed=seed, fidelity=fid, permits=valid)
    to_wgs84 = _xy(Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True))
    scenes = []
    for block in blocks:
        bg_seed = int(
            np.random.SeedSequence([seed, 3, zlib.crc32(block.cell_id.encode())]).generate_state(1)[
                0
            ]
        )
        background = generate_background(bg_seed, _background_config(fid.block_size_m))
        found = sample_violations(
            block,
            background,
            dynamics=dyn,
            horizon=horizon,
            night=night,
            permits=_permit_areas(valid, block),
            rng=_stream(seed, 4, block.cell_id),
            to_wgs84=lambda g: shapely.transform(g, to_wgs84),
        )
        scenes.append(BlockScene(block, background, tuple(found)))
    return SimWorld(scenes=tuple(scenes), fidelity=fid, crs=crs, horizon=horizon, night=night)
