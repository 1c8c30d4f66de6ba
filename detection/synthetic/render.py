"""Render a :class:`World` to an RGB image and pixel labels for one nadir camera window.

Everything is computed from the world and the window alone (textures are hashed from world
coordinates, lights and shadows come from the objects), so the patrol simulator can ask for any
window of the same world and adjacent frames agree. Per-frame camera effects (exposure, white
balance, sensor noise) come from :class:`RenderOptions` and its seed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter
from shapely import affinity
from shapely.geometry import GeometryCollection, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from detection.classes import ViolationClass
from detection.synthetic.lighting import NightOptions, apply_night
from detection.synthetic.objects import GROUND_COLOURS
from detection.synthetic.paint_scene import SCENE_PAINTERS, Painter
from detection.synthetic.paint_violations import VIOLATION_PAINTERS
from detection.synthetic.textures import FloatArray
from detection.synthetic.world import (
    CONFUSER_KINDS,
    LABEL_OF_KIND,
    CameraWindow,
    ObjectKind,
    SceneObject,
    World,
)

PAINTERS: dict[ObjectKind, Painter] = {**SCENE_PAINTERS, **VIOLATION_PAINTERS}
_SUPERSAMPLE = 2


@dataclass(frozen=True)
class RenderOptions:
    """Per-frame camera effects; all defaults give a clean, neutral daytime frame."""

    night: bool = False
    exposure: float = 1.0
    white_balance: tuple[float, float, float] = (1.0, 1.0, 1.0)
    haze: float = 0.0
    noise_sigma: float = 0.006
    min_visible_fraction: float = 0.25
    min_visible_area_m2: float = 6.0
    min_box_px: int = 6
    seed: int = 0
    night_options: NightOptions = field(default_factory=NightOptions)


@dataclass(frozen=True)
class PixelBox:
    """Axis-aligned box of one object in image pixels (``x1``/``y1`` exclusive edges)."""

    kind: ObjectKind
    x0_px: float
    y0_px: float
    x1_px: float
    y1_px: float

    @property
    def label(self) -> ViolationClass | None:
        """Violation class of the boxed object, ``None`` for a confuser."""
        return LABEL_OF_KIND.get(self.kind)

    def yolo_line(self, width_px: int, height_px: int) -> str:
        """YOLO label line: class id and normalised centre x, centre y, width, height."""
        label = self.label
        if label is None:
            raise ValueError(f"{self.kind.value} is a confuser and has no YOLO class")
        cx = (self.x0_px + self.x1_px) / 2 / width_px
        cy = (self.y0_px + self.y1_px) / 2 / height_px
        w = (self.x1_px - self.x0_px) / width_px
        h = (self.y1_px - self.y0_px) / height_px
        return f"{label.index} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}"


@dataclass(frozen=True)
class RenderedScene:
    """An image with the boxes of the violations and of the confusers it shows."""

    image: NDArray[np.uint8]
    labels: tuple[PixelBox, ...]
    confusers: tuple[PixelBox, ...]
    window: CameraWindow


def _to_px(poly: BaseGeometry, window: CameraWindow, scale: int) -> BaseGeometry:
    """World polygon to (supersampled) pixel coordinates of the window."""
    f = scale / window.gsd_m
    shifted = affinity.translate(poly, -window.min_x_m, -window.max_y_m)
    return affinity.scale(shifted, xfact=f, yfact=-f, origin=(0, 0))


def _polygons(geom: BaseGeometry) -> Iterable[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon | GeometryCollection):
        return [p for g in geom.geoms for p in _polygons(g)]
    return []


def _draw(draw: ImageDraw.ImageDraw, geom: BaseGeometry) -> None:
    for poly in _polygons(geom):
        if poly.is_empty:
            continue
        draw.polygon(list(poly.exterior.coords), fill=255)
        for hole in poly.interiors:
            draw.polygon(list(hole.coords), fill=0)


def _object_mask(
    obj: SceneObject, window: CameraWindow
) -> tuple[tuple[int, int, int, int], FloatArray] | None:
    """Anti-aliased coverage of ``obj`` inside its pixel bounding box, or None if unseen."""
    minx, miny, maxx, maxy = obj.footprint.bounds
    c0 = max((math.floor((minx - window.min_x_m) / window.gsd_m)), 0)
    c1 = min((math.ceil((maxx - window.min_x_m) / window.gsd_m)), window.width_px)
    r0 = max((math.floor((window.max_y_m - maxy) / window.gsd_m)), 0)
    r1 = min((math.ceil((window.max_y_m - miny) / window.gsd_m)), window.height_px)
    if c1 <= c0 or r1 <= r0:
        return None
    s = _SUPERSAMPLE
    img = Image.new("L", ((c1 - c0) * s, (r1 - r0) * s), 0)
    poly = affinity.translate(_to_px(obj.footprint, window, s), -c0 * s, -r0 * s)
    _draw(ImageDraw.Draw(img), poly)
    small = img.reduce(s)
    if obj.is_ground and obj.kind is not ObjectKind.ROAD:
        small = small.filter(ImageFilter.GaussianBlur(0.4 / window.gsd_m))
    return (r0, r1, c0, c1), np.asarray(small, dtype=np.float32) / 255.0


def _pixel_coords(window: CameraWindow, rows: slice, cols: slice) -> tuple[FloatArray, FloatArray]:
    xs = window.min_x_m + (np.arange(cols.start, cols.stop, dtype=np.float32) + 0.5) * window.gsd_m
    ys = window.max_y_m - (np.arange(rows.start, rows.stop, dtype=np.float32) + 0.5) * window.gsd_m
    x, y = np.meshgrid(xs.astype(np.float32), ys.astype(np.float32))
    return x, y


def _local(obj: SceneObject, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    dx = x - np.float32(obj.center_xy_m[0])
    dy = y - np.float32(obj.center_xy_m[1])
    c, s = np.float32(math.cos(obj.heading_rad)), np.float32(math.sin(obj.heading_rad))
    return dx * c + dy * s, -dx * s + dy * c


def _paint(canvas: FloatArray, obj: SceneObject, window: CameraWindow) -> None:
    found = _object_mask(obj, window)
    if found is None:
        return
    (r0, r1, c0, c1), mask = found
    x, y = _pixel_coords(window, slice(r0, r1), slice(c0, c1))
    u, v = _local(obj, x, y)
    rgb = PAINTERS[obj.kind](obj, u, v, x, y)
    m = mask[..., None]
    canvas[r0:r1, c0:c1] = canvas[r0:r1, c0:c1] * (1 - m) + np.clip(rgb, 0, 1) * m


def _shadow_geom(objs: Iterable[SceneObject], world: World) -> Polygon | MultiPolygon | None:
    parts = []
    for obj in objs:
        if obj.height_m <= 0:
            continue
        dx, dy = world.sun.shadow_offset_m(obj.height_m)
        moved = affinity.translate(obj.footprint, dx, dy)
        parts.append(unary_union([obj.footprint, moved]).convex_hull)
    if not parts:
        return None
    geom = unary_union(parts)
    return geom if isinstance(geom, Polygon | MultiPolygon) else None


def _apply_shadows(
    canvas: FloatArray, objs: list[SceneObject], world: World, window: CameraWindow
) -> None:
    """Darken the ground under the sun-shadows cast by ``objs`` (soft-edged)."""
    geom = _shadow_geom(objs, world)
    if geom is None or not geom.intersects(window.ground):
        return
    s = _SUPERSAMPLE
    img = Image.new("L", (window.width_px * s, window.height_px * s), 0)
    _draw(ImageDraw.Draw(img), _to_px(geom.intersection(window.ground.buffer(5.0)), window, s))
    img = img.reduce(s).filter(ImageFilter.BoxBlur(1))
    m = np.asarray(img, dtype=np.float32)[..., None] / 255.0
    tint = np.asarray((0.45, 0.47, 0.52), dtype=np.float32)
    canvas *= 1 - m * (1 - tint)


def _boxes(
    world: World, window: CameraWindow, options: RenderOptions
) -> tuple[tuple[PixelBox, ...], tuple[PixelBox, ...]]:
    labels: list[PixelBox] = []
    confusers: list[PixelBox] = []
    frame = window.ground
    for obj in world.objects:
        if obj.label is None and obj.kind not in CONFUSER_KINDS:
            continue
        seen = obj.footprint.intersection(frame)
        if seen.is_empty or (
            seen.area < options.min_visible_fraction * obj.footprint.area
            and seen.area < options.min_visible_area_m2
        ):
            continue
        minx, miny, maxx, maxy = seen.bounds
        box_px = PixelBox(
            obj.kind,
            (minx - window.min_x_m) / window.gsd_m,
            (window.max_y_m - maxy) / window.gsd_m,
            (maxx - window.min_x_m) / window.gsd_m,
            (window.max_y_m - miny) / window.gsd_m,
        )
        if min(box_px.x1_px - box_px.x0_px, box_px.y1_px - box_px.y0_px) < options.min_box_px:
            continue
        (labels if obj.label is not None else confusers).append(box_px)
    return tuple(labels), tuple(confusers)


def _camera(canvas: FloatArray, options: RenderOptions) -> NDArray[np.uint8]:
    rng = np.random.default_rng(options.seed)
    wb = np.asarray(options.white_balance, dtype=np.float32)
    img = canvas * np.float32(options.exposure) * wb
    img = img * (1 - options.haze) + np.float32(options.haze * 0.75)
    img += rng.normal(0.0, options.noise_sigma, img.shape).astype(np.float32)
    return np.asarray(np.clip(img, 0, 1) * 255 + 0.5, dtype=np.uint8)


def render(
    world: World, window: CameraWindow, options: RenderOptions | None = None
) -> RenderedScene:
    """Draw ``world`` as seen by a nadir camera over ``window``.

    Painting order: base ground, ground cover, shadows of ground-standing objects, those
    objects, then shadows and objects standing on roofs; night lighting is applied to the
    finished albedo so lights and sensor noise behave like a real low-light frame.
    """
    opts = options or RenderOptions()
    canvas = np.zeros((window.height_px, window.width_px, 3), dtype=np.float32)
    base = SceneObject(
        world.ground_kind,
        window.ground,
        (0.0, 0.0),
        0.0,
        1.0,
        1.0,
        GROUND_COLOURS[world.ground_kind],
        texture_seed=world.seed,
    )
    x, y = _pixel_coords(window, slice(0, window.height_px), slice(0, window.width_px))
    canvas[...] = PAINTERS[base.kind](base, x, y, x, y)
    visible = [o for o in world.objects if _near(o, window)]
    for obj in (o for o in visible if o.is_ground):
        _paint(canvas, obj, window)
    for elevated in (False, True):
        layer = [o for o in visible if not o.is_ground and (o.base_m > 0) == elevated]
        casters = [
            o
            for o in world.objects
            if not o.is_ground
            and (o.base_m > 0) == elevated
            and _near(o, window, _shadow_reach_m(o, world))
        ]
        if not opts.night:  # no sun at night; lights are added to the albedo below
            _apply_shadows(canvas, casters, world, window)
        for obj in layer:
            _paint(canvas, obj, window)
    if opts.night:
        canvas = apply_night(canvas, world, window, opts.night_options)
    labels, confusers = _boxes(world, window, opts)
    return RenderedScene(_camera(canvas, opts), labels, confusers, window)


def _near(obj: SceneObject, window: CameraWindow, margin_m: float = 0.0) -> bool:
    """Whether the object's bounds come within ``margin_m`` of the window (cheap culling)."""
    minx, miny, maxx, maxy = obj.footprint.bounds
    return not (
        maxx < window.min_x_m - margin_m
        or minx > window.max_x_m + margin_m
        or maxy < window.min_y_m - margin_m
        or miny > window.max_y_m + margin_m
    )


def _shadow_reach_m(obj: SceneObject, world: World) -> float:
    """How far from its footprint the object's shadow can fall."""
    dx, dy = world.sun.shadow_offset_m(obj.height_m)
    return math.hypot(dx, dy)
