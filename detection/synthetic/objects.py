"""Factories for scene objects with realistic sizes (metres) and colours.

Each factory takes a seeded ``numpy.random.Generator``, a centre and a heading and returns a
:class:`SceneObject` whose footprint is the union of its parts, so label boxes are tight.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from shapely import affinity
from shapely.geometry import Polygon
from shapely.ops import unary_union

from detection.errors import SceneError
from detection.synthetic.world import ObjectKind, Rgb, SceneObject, local_rect, oriented_rect

Rng = np.random.Generator
XY = tuple[float, float]

ROOF_COLOURS: dict[ObjectKind, Rgb] = {
    ObjectKind.ROOF_CONCRETE: (0.64, 0.63, 0.60),
    ObjectKind.ROOF_RED_TILE: (0.62, 0.31, 0.22),
    ObjectKind.ROOF_DARK: (0.24, 0.25, 0.27),
    ObjectKind.ROOF_SOLAR: (0.60, 0.60, 0.58),
}
GROUND_COLOURS: dict[ObjectKind, Rgb] = {
    ObjectKind.GRASS: (0.30, 0.40, 0.18),
    ObjectKind.BARE_SOIL: (0.60, 0.45, 0.33),
    ObjectKind.ASPHALT: (0.27, 0.27, 0.28),
    ObjectKind.PAVING: (0.58, 0.57, 0.54),
    ObjectKind.WATER: (0.17, 0.26, 0.25),
    ObjectKind.ROAD: (0.25, 0.25, 0.26),
}
_SHED_COLOURS: tuple[Rgb, ...] = (
    (0.20, 0.42, 0.75),
    (0.16, 0.36, 0.66),
    (0.28, 0.50, 0.78),
    (0.88, 0.89, 0.90),
    (0.80, 0.82, 0.84),
)
_MACHINE_COLOURS: tuple[Rgb, ...] = ((0.88, 0.66, 0.10), (0.92, 0.55, 0.10), (0.80, 0.22, 0.12))
_TRUCK_COLOURS: tuple[Rgb, ...] = (
    (0.20, 0.50, 0.30),
    (0.22, 0.36, 0.66),
    (0.85, 0.70, 0.15),
    (0.75, 0.20, 0.15),
    (0.85, 0.86, 0.86),
)
_CAR_COLOURS: tuple[Rgb, ...] = (
    (0.9, 0.9, 0.9),
    (0.7, 0.71, 0.73),
    (0.1, 0.1, 0.11),
    (0.6, 0.1, 0.1),
    (0.15, 0.25, 0.5),
    (0.4, 0.4, 0.42),
)
_CONTAINER_COLOURS: tuple[Rgb, ...] = (
    (0.62, 0.20, 0.15),
    (0.16, 0.32, 0.58),
    (0.70, 0.40, 0.15),
    (0.22, 0.45, 0.30),
    (0.78, 0.78, 0.76),
)


def _pick(rng: Rng, colours: tuple[Rgb, ...], jitter: float = 0.04) -> Rgb:
    base = np.asarray(colours[int(rng.integers(len(colours)))])
    c = np.clip(base + rng.uniform(-jitter, jitter, 3), 0, 1)
    return (float(c[0]), float(c[1]), float(c[2]))


def _seed(rng: Rng) -> int:
    return int(rng.integers(1, 2**30))


def blob(rng: Rng, center: XY, rx_m: float, ry_m: float, heading_rad: float) -> Polygon:
    """Irregular closed outline (a pile, a tarp, a pond) of about ``rx_m`` × ``ry_m`` radii."""
    theta = np.linspace(0, 2 * np.pi, 28, endpoint=False)
    radius = np.ones_like(theta)
    for harmonic in (2, 3, 5):
        radius += rng.uniform(0.03, 0.12) * np.sin(harmonic * theta + rng.uniform(0, 2 * np.pi))
    pts = np.c_[rx_m * radius * np.cos(theta), ry_m * radius * np.sin(theta)]
    poly = affinity.rotate(Polygon(pts), heading_rad, origin=(0, 0), use_radians=True)
    return affinity.translate(poly, *center)


def _rect_obj(
    kind: ObjectKind,
    center: XY,
    size_m: tuple[float, float],
    heading: float,
    color: Rgb,
    *,
    rng: Rng,
    **extra: Any,
) -> SceneObject:
    length_m, width_m = size_m
    footprint = oriented_rect(center, length_m, width_m, heading)
    return SceneObject(
        kind,
        footprint,
        center,
        heading,
        length_m,
        width_m,
        color,
        texture_seed=_seed(rng),
        **extra,
    )


def building(rng: Rng, center: XY, heading: float) -> SceneObject:
    """A legal building 8–22 m by 8–16 m, 6–30 m tall, with one of four roof types."""
    kind = list(ROOF_COLOURS)[int(rng.integers(len(ROOF_COLOURS)))]
    size = (float(rng.uniform(8, 22)), float(rng.uniform(8, 16)))
    color = _pick(rng, (ROOF_COLOURS[kind],), 0.05)
    height_m = float(rng.uniform(6, 24))
    return _rect_obj(kind, center, size, heading, color, rng=rng, height_m=height_m)


def steel_shed(rng: Rng, center: XY, heading: float, base_m: float = 0.0) -> SceneObject:
    """Illegal corrugated steel-roof shed, 4–14 m by 3–8 m, blue or white sheets."""
    size = (float(rng.uniform(4, 14)), float(rng.uniform(3, 8)))
    return _rect_obj(
        ObjectKind.STEEL_SHED,
        center,
        size,
        heading,
        _pick(rng, _SHED_COLOURS),
        rng=rng,
        height_m=float(rng.uniform(2.5, 4.0)),
        base_m=base_m,
    )


def building_frame(rng: Rng, center: XY, heading: float) -> SceneObject:
    """Illegal new building under construction: an open concrete frame of 3.5–5 m bays."""
    bay_m = float(rng.uniform(3.5, 5.0))
    size = (bay_m * int(rng.integers(2, 5)), bay_m * int(rng.integers(2, 4)))
    return _rect_obj(
        ObjectKind.BUILDING_FRAME,
        center,
        size,
        heading,
        _pick(rng, ((0.66, 0.65, 0.62),)),
        rng=rng,
        height_m=float(rng.uniform(3, 12)),
        params=(bay_m,),
    )


def waste_pile(rng: Rng, center: XY, heading: float) -> SceneObject:
    """Dumped construction waste: an irregular heap 3–12 m across."""
    rx = float(rng.uniform(1.5, 6.0))
    ry = rx * float(rng.uniform(0.5, 1.0))
    color = _pick(rng, ((0.55, 0.47, 0.38), (0.50, 0.50, 0.48), (0.58, 0.42, 0.30)), 0.05)
    return SceneObject(
        ObjectKind.WASTE_PILE,
        blob(rng, center, rx, ry, heading),
        center,
        heading,
        2 * rx,
        2 * ry,
        color,
        height_m=float(rng.uniform(0.5, 2.0)),
        texture_seed=_seed(rng),
    )


def excavator(rng: Rng, center: XY, heading: float, lit: bool = False) -> SceneObject:
    """Tracked excavator: 2.8–3.3 m wide, tracks 3.8–4.8 m, arm reaching 5–8 m forward."""
    width = float(rng.uniform(2.8, 3.3))
    track = float(rng.uniform(3.8, 4.8))
    reach = float(rng.uniform(5.0, 8.0))
    parts = [
        local_rect(center, heading, (-track / 2, track / 2), (-width / 2, width / 2)),
        local_rect(center, heading, (-1.8, 1.3), (-width / 2 + 0.1, width / 2 - 0.1)),
        local_rect(center, heading, (1.3, reach), (-0.55, 0.15)),
    ]
    return SceneObject(
        ObjectKind.EXCAVATOR,
        _union(parts),
        center,
        heading,
        track,
        width,
        _pick(rng, _MACHINE_COLOURS),
        height_m=3.0,
        texture_seed=_seed(rng),
        lit=lit,
        params=(track, reach),
    )


def crane(rng: Rng, center: XY, heading: float, lit: bool = False) -> SceneObject:
    """Truck crane: 10–13 m carrier, outriggers 6 m wide, telescopic boom of 8–16 m."""
    carrier = float(rng.uniform(10, 13))
    boom = float(rng.uniform(8, 16))
    parts = [
        local_rect(center, heading, (-carrier / 2, carrier / 2), (-1.35, 1.35)),
        local_rect(center, heading, (-carrier / 2 + 2.5, -carrier / 2 + 2.9), (-3.0, 3.0)),
        local_rect(center, heading, (carrier / 2 - 1.4, carrier / 2 - 1.0), (-3.0, 3.0)),
        local_rect(center, heading, (-0.5, boom), (-0.45, 0.45)),
    ]
    return SceneObject(
        ObjectKind.CRANE,
        _union(parts),
        center,
        heading,
        carrier,
        2.7,
        _pick(rng, _MACHINE_COLOURS),
        height_m=3.5,
        texture_seed=_seed(rng),
        lit=lit,
        params=(carrier, boom),
    )


def muck_truck(rng: Rng, center: XY, heading: float, lit: bool = False) -> SceneObject:
    """Dump truck 7.5–10 m long, 2.5 m wide; body loaded with muck or sealed with a cover."""
    size = (float(rng.uniform(7.5, 10.0)), float(rng.uniform(2.4, 2.55)))
    return _rect_obj(
        ObjectKind.MUCK_TRUCK,
        center,
        size,
        heading,
        _pick(rng, _TRUCK_COLOURS),
        rng=rng,
        height_m=3.2,
        lit=lit,
        variant=int(rng.integers(4)),
    )


def pool(rng: Rng, center: XY, heading: float) -> SceneObject:
    """Legal swimming pool (blue, rectangular): a confuser for blue steel roofs."""
    size = (float(rng.uniform(5, 12)), float(rng.uniform(3, 6)))
    color = _pick(rng, ((0.3, 0.72, 0.85),))
    return _rect_obj(ObjectKind.POOL, center, size, heading, color, rng=rng)


def blue_tarp(rng: Rng, center: XY, heading: float, base_m: float = 0.0) -> SceneObject:
    """Loose blue tarpaulin 2–6 m: blue like a shed roof but wrinkled and irregular."""
    rx = float(rng.uniform(1.0, 3.0))
    ry = rx * float(rng.uniform(0.6, 1.0))
    color = _pick(rng, ((0.15, 0.35, 0.75), (0.12, 0.30, 0.65)))
    return SceneObject(
        ObjectKind.BLUE_TARP,
        blob(rng, center, rx, ry, heading),
        center,
        heading,
        2 * rx,
        2 * ry,
        color,
        base_m=base_m,
        height_m=0.3,
        texture_seed=_seed(rng),
    )


def court(rng: Rng, center: XY, heading: float) -> SceneObject:
    """Basketball court with run-off, 32 × 19 m, green, blue or red surface."""
    colours: tuple[Rgb, ...] = ((0.22, 0.45, 0.35), (0.2, 0.38, 0.62), (0.6, 0.32, 0.26))
    return _rect_obj(ObjectKind.COURT, center, (32.0, 19.0), heading, _pick(rng, colours), rng=rng)


def car(rng: Rng, center: XY, heading: float) -> SceneObject:
    """Passenger car 4.2–4.9 m by 1.75–1.9 m."""
    size = (float(rng.uniform(4.2, 4.9)), float(rng.uniform(1.75, 1.9)))
    return _rect_obj(
        ObjectKind.CAR, center, size, heading, _pick(rng, _CAR_COLOURS), rng=rng, height_m=1.5
    )


def container(rng: Rng, center: XY, heading: float) -> SceneObject:
    """ISO shipping container, 20 ft (6.06 m) or 40 ft (12.19 m) by 2.44 m."""
    length = 6.06 if rng.random() < 0.6 else 12.19
    return _rect_obj(
        ObjectKind.CONTAINER,
        center,
        (length, 2.44),
        heading,
        _pick(rng, _CONTAINER_COLOURS),
        rng=rng,
        height_m=2.6,
    )


def tree(rng: Rng, center: XY) -> SceneObject:
    """Tree crown 3–9 m across."""
    r = float(rng.uniform(1.5, 4.5))
    color = _pick(rng, ((0.16, 0.30, 0.10), (0.20, 0.34, 0.12), (0.13, 0.25, 0.12)))
    return SceneObject(
        ObjectKind.TREE,
        blob(rng, center, r, r, 0.0),
        center,
        0.0,
        2 * r,
        2 * r,
        color,
        height_m=float(rng.uniform(4, 12)),
        texture_seed=_seed(rng),
    )


def ground_patch(rng: Rng, kind: ObjectKind, center: XY, radius_m: float) -> SceneObject:
    """Irregular area of one ground cover (grass, soil, asphalt, paving, water)."""
    heading = float(rng.uniform(0, math.pi))
    poly = blob(rng, center, radius_m, radius_m * float(rng.uniform(0.5, 1.0)), heading)
    return SceneObject(
        kind,
        poly,
        center,
        heading,
        2 * radius_m,
        2 * radius_m,
        _pick(rng, (GROUND_COLOURS[kind],), 0.03),
        texture_seed=_seed(rng),
    )


def road(rng: Rng, center: XY, heading: float, length_m: float) -> SceneObject:
    """Straight road 6–14 m wide (kerb to kerb)."""
    width = float(rng.uniform(6, 14))
    color = GROUND_COLOURS[ObjectKind.ROAD]
    return _rect_obj(ObjectKind.ROAD, center, (length_m, width), heading, color, rng=rng)


def _union(parts: list[Polygon]) -> Polygon:
    geom = unary_union(parts)
    if isinstance(geom, Polygon):
        return geom
    hull = geom.convex_hull
    if not isinstance(hull, Polygon):
        raise SceneError("object parts do not form an area; check their sizes")
    return hull
