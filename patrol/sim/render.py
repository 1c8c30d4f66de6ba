"""Camera frames of the simulated world: the part of a frame footprint inside each block.

Each block is rendered whole, north-up at the fidelity's GSD, in block-local metres (small
coordinates keep the float32 textures sharp), for one state: the violations active at the frame
time and day or night. Renders are kept in a bounded LRU keyed by that state, so every pass over
an unchanged block gets the same pixels from memory ("consistent across flights"); a view is a
crop of the block render with the pixels outside the frame footprint greyed out.
"""

from __future__ import annotations

import math
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from affine import Affine
from numpy.typing import NDArray
from PIL import Image, ImageDraw
from pyproj import CRS
from shapely import affinity
from shapely.geometry import Polygon

from detection.georef.raster import RasterGeoreferencer
from detection.synthetic.layout import Background
from detection.synthetic.render import RenderOptions, render
from detection.synthetic.world import CameraWindow, ObjectKind, SceneObject, World
from patrol.sim.dynamics import Block, Violation

__all__ = ["MASK_GREY", "BlockRenderer", "BlockScene", "CacheInfo", "View"]

MASK_GREY = (114, 114, 114)
"""Fill of pixels outside the frame footprint (the detector's letterbox grey)."""

MIN_VIEW_PX = 32
"""Views thinner than this are dropped: too small to hold a detectable object."""

_StateKey = tuple[str, tuple[str, ...], bool]


@dataclass(frozen=True)
class View:
    """The part of one camera frame that falls inside one simulated block.

    ``image`` is north-up RGB at the render GSD; ``transform`` maps pixel (col, row) to metric
    (x, y) in ``crs`` (pixel corners, GDAL convention). Pixels outside the frame footprint are
    :data:`MASK_GREY`.
    """

    block_id: str
    image: NDArray[np.uint8]
    transform: Affine
    crs: CRS
    taken_at: datetime

    def georeferencer(self) -> RasterGeoreferencer:
        """Maps detector boxes in this view's pixels to WGS-84 polygons."""
        return RasterGeoreferencer(self.transform, self.crs)


@dataclass(frozen=True)
class BlockScene:
    """A block's static background and its violations (objects in block-local metres)."""

    block: Block
    background: Background
    violations: tuple[tuple[Violation, SceneObject], ...]

    def active(self, t: datetime) -> tuple[tuple[Violation, SceneObject], ...]:
        """Violations on the ground at ``t``."""
        return tuple((v, o) for v, o in self.violations if v.active_at(t))

    def world(self, active: tuple[tuple[Violation, SceneObject], ...]) -> World:
        """The renderable world of the block with exactly ``active`` violations in it."""
        bg = self.background.world
        ground = [o for o in bg.objects if o.is_ground]
        things = [o for o in bg.objects if not o.is_ground] + [o for _, o in active]
        ordered = sorted(things, key=lambda o: (o.base_m, o.kind is ObjectKind.TREE))
        return World(bg.extent, (*ground, *ordered), bg.sun, bg.ground_kind, bg.seed)


@dataclass(frozen=True)
class CacheInfo:
    """Block-render cache counters (``renders`` = misses that were drawn)."""

    hits: int
    misses: int
    size: int
    capacity: int

    @property
    def hit_rate(self) -> float:
        """Fraction of block lookups served from memory."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class BlockRenderer:
    """Renders blocks per state with an LRU of ``capacity`` full-block images (thread-safe)."""

    def __init__(self, *, gsd_m: float, crs: CRS, capacity: int) -> None:
        self.gsd_m = gsd_m
        self.crs = crs
        self.capacity = max(1, capacity)
        self._cache: OrderedDict[_StateKey, NDArray[np.uint8]] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def cache_info(self) -> CacheInfo:
        """Counters since construction."""
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._cache), self.capacity)

    def _size_px(self, block: Block) -> int:
        return math.ceil(block.size_m / self.gsd_m - 1e-9)

    def block_transform(self, block: Block) -> Affine:
        """Pixel → metric transform of the full-block render (north-up)."""
        x0, y0 = block.bounds_m[:2]
        top = y0 + self._size_px(block) * self.gsd_m
        return Affine(self.gsd_m, 0.0, x0, 0.0, -self.gsd_m, top)

    def block_image(self, scene: BlockScene, t: datetime, night: bool) -> NDArray[np.uint8]:
        """The whole block at ``t`` (read-only; shared with the cache)."""
        active = scene.active(t)
        key: _StateKey = (
            scene.block.block_id,
            tuple(sorted(v.violation_id for v, _ in active)),
            night,
        )
        with self._lock:
            image = self._cache.get(key)
            if image is not None:
                self._cache.move_to_end(key)
                self._hits += 1
                return image
            self._misses += 1
        image = self._draw(scene, active, night)
        with self._lock:
            self._cache[key] = image
            self._cache.move_to_end(key)
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        return image

    def _draw(
        self, scene: BlockScene, active: tuple[tuple[Violation, SceneObject], ...], night: bool
    ) -> NDArray[np.uint8]:
        size = self._size_px(scene.block)
        window = CameraWindow(0.0, 0.0, size, size, self.gsd_m)
        # sensor noise depends on the block only, so a state change alters only its objects
        seed = zlib.crc32(scene.block.block_id.encode()) ^ int(night)
        image = render(scene.world(active), window, RenderOptions(night=night, seed=seed)).image
        image.setflags(write=False)
        return image

    def view(
        self, scene: BlockScene, footprint_m: Polygon, taken_at: datetime, night: bool
    ) -> View | None:
        """The crop of the block under ``footprint_m`` (metric), or None if thinner than 32 px."""
        x0, y0, x1, y1 = scene.block.bounds_m
        inside = footprint_m.intersection(Polygon.from_bounds(x0, y0, x1, y1))
        if inside.is_empty or inside.area <= 0:
            return None
        size = self._size_px(scene.block)
        top = y0 + size * self.gsd_m
        minx, miny, maxx, maxy = inside.bounds
        c0 = max(math.floor((minx - x0) / self.gsd_m), 0)
        c1 = min(math.ceil((maxx - x0) / self.gsd_m), size)
        r0 = max(math.floor((top - maxy) / self.gsd_m), 0)
        r1 = min(math.ceil((top - miny) / self.gsd_m), size)
        if c1 - c0 < MIN_VIEW_PX or r1 - r0 < MIN_VIEW_PX:
            return None
        crop = np.array(self.block_image(scene, taken_at, night)[r0:r1, c0:c1])
        transform = self.block_transform(scene.block) @ Affine.translation(c0, r0)
        _grey_outside(crop, footprint_m, ~transform)
        return View(scene.block.block_id, crop, transform, self.crs, taken_at)


def _grey_outside(crop: NDArray[np.uint8], footprint_m: Polygon, to_px: Affine) -> None:
    """Paint pixels whose centre lies outside ``footprint_m`` with :data:`MASK_GREY`."""
    a = to_px
    px = affinity.affine_transform(footprint_m, [a.a, a.b, a.d, a.e, a.c, a.f])
    if not isinstance(px, Polygon):
        return
    h, w = crop.shape[:2]
    mask = Image.new("L", (w, h), 0)
    # PIL fills pixel (i, j) when its centre (i + 0.5, j + 0.5) in corner coordinates is inside
    shifted = affinity.translate(px, -0.5, -0.5)
    ImageDraw.Draw(mask).polygon(list(shifted.exterior.coords), fill=255)
    outside = np.asarray(mask) == 0
    if outside.any():
        crop[outside] = MASK_GREY
