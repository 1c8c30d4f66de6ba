"""Procedural layout: a seeded :class:`World` of ground, roads, buildings, violations, confusers.

The layout is the ground truth; it knows nothing about cameras. Placement is rejection sampling
against already placed footprints, so violations never hide under each other and every label
box shows one object.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
from shapely.geometry import Polygon

from detection.errors import SceneError
from detection.synthetic import objects as ob
from detection.synthetic.world import ObjectKind, SceneObject, Sun, World

Rng = np.random.Generator
Factory = Callable[[Rng, tuple[float, float], float], SceneObject]


@dataclass(frozen=True)
class WorldConfig:
    """Size and density of a generated world.

    ``violations`` and ``confusers`` are mean counts per world (Poisson); a world of
    ``size_m`` = 60 holds a handful of each, enough that most camera windows show one.
    """

    size_m: float = 60.0
    violations: float = 10.0
    confusers: float = 8.0
    buildings: float = 2.0
    trees: float = 6.0
    night_active_site_probability: float = 0.6

    def __post_init__(self) -> None:
        if not 10.0 <= self.size_m <= 5000.0:
            raise SceneError(f"size_m={self.size_m} is outside 10..5000 m; pick a usable world")
        if min(self.violations, self.confusers, self.buildings, self.trees) < 0:
            raise SceneError("object counts must be non-negative")


_VIOLATION_FACTORIES: tuple[tuple[float, Factory], ...] = (
    (0.22, ob.steel_shed),
    (0.10, ob.building_frame),
    (0.26, ob.waste_pile),
    (0.12, ob.excavator),
    (0.08, ob.crane),
    (0.22, ob.muck_truck),
)
_CONFUSER_FACTORIES: tuple[tuple[float, Factory], ...] = (
    (0.16, ob.pool),
    (0.22, ob.blue_tarp),
    (0.06, ob.court),
    (0.34, ob.car),
    (0.22, ob.container),
)
_MACHINES = frozenset({ObjectKind.EXCAVATOR, ObjectKind.CRANE, ObjectKind.MUCK_TRUCK})
_ROAD_USERS = frozenset({ObjectKind.CAR, ObjectKind.MUCK_TRUCK, ObjectKind.CRANE})


class _Layout:
    """Mutable state while a world is laid out: the generator and what is placed so far."""

    def __init__(self, seed: int, config: WorldConfig) -> None:
        self.rng = np.random.default_rng(seed)
        self.config = config
        self.ground: list[SceneObject] = []
        self.things: list[SceneObject] = []
        self.roofs: list[SceneObject] = []
        self.blocked: list[Polygon] = []

    def point(self) -> tuple[float, float]:
        s = self.config.size_m
        return (float(self.rng.uniform(0, s)), float(self.rng.uniform(0, s)))

    def heading(self) -> float:
        return float(self.rng.uniform(0, math.pi))

    def fits(self, poly: Polygon, clearance_m: float = 0.6) -> bool:
        grown = poly.buffer(clearance_m)
        return not any(grown.intersects(b) for b in self.blocked)

    def place(self, factory: Factory, tries: int = 25) -> bool:
        """Put one object where it overlaps nothing placed so far (only vehicles on roads)."""
        for _ in range(tries):
            obj = factory(self.rng, self.point(), self.heading())
            allowed = obj.kind in _ROAD_USERS or not _touches_road(self, obj.footprint)
            if allowed and self.fits(obj.footprint) and not self._on_water(obj.footprint):
                self.things.append(obj)
                self.blocked.append(obj.footprint)
                return True
        return False

    def _on_water(self, poly: Polygon) -> bool:
        return any(g.kind is ObjectKind.WATER and g.footprint.intersects(poly) for g in self.ground)


def _lay_ground(lay: _Layout) -> ObjectKind:
    rng, s = lay.rng, lay.config.size_m
    base = [ObjectKind.GRASS, ObjectKind.BARE_SOIL, ObjectKind.PAVING][
        int(rng.choice(3, p=[0.45, 0.35, 0.2]))
    ]
    kinds = [ObjectKind.GRASS, ObjectKind.BARE_SOIL, ObjectKind.ASPHALT, ObjectKind.PAVING]
    for _ in range(int(rng.integers(2, 6))):
        kind = kinds[int(rng.integers(len(kinds)))]
        lay.ground.append(ob.ground_patch(rng, kind, lay.point(), float(rng.uniform(5, s / 3))))
    if rng.random() < 0.15:
        water = ob.ground_patch(rng, ObjectKind.WATER, lay.point(), float(rng.uniform(5, 12)))
        lay.ground.append(water)
        lay.blocked.append(water.footprint)
    for _ in range(int(rng.choice(3, p=[0.35, 0.45, 0.2]))):
        heading = float(rng.integers(4)) * math.pi / 2 + float(rng.normal(0, 0.15))
        lay.ground.append(ob.road(rng, lay.point(), heading, 3 * s))
    return base


def _lay_buildings(lay: _Layout) -> None:
    rng = lay.rng
    for _ in range(int(rng.poisson(lay.config.buildings))):
        for _ in range(20):
            b = ob.building(rng, lay.point(), lay.heading())
            if lay.fits(b.footprint, 1.0) and not _touches_road(lay, b.footprint):
                lay.things.append(b)
                lay.blocked.append(b.footprint)
                lay.roofs.append(b)
                _lay_rooftop(lay, b)
                break


def _lay_rooftop(lay: _Layout, b: SceneObject) -> None:
    """Some roofs carry an illegal shed; a few a legal blue tarp."""
    rng = lay.rng
    inner = b.footprint.buffer(-0.8)
    roll = rng.random()
    for _ in range(10):
        if roll < 0.45:
            obj = ob.steel_shed(rng, _inside(lay, inner), b.heading_rad, base_m=b.height_m)
        elif roll < 0.6:
            obj = ob.blue_tarp(rng, _inside(lay, inner), lay.heading(), base_m=b.height_m)
        else:
            return
        if inner.contains(obj.footprint):
            lay.things.append(obj)
            return


def _inside(lay: _Layout, poly: Polygon) -> tuple[float, float]:
    minx, miny, maxx, maxy = poly.bounds
    return (float(lay.rng.uniform(minx, maxx)), float(lay.rng.uniform(miny, maxy)))


def _touches_road(lay: _Layout, poly: Polygon) -> bool:
    return any(g.kind is ObjectKind.ROAD and g.footprint.intersects(poly) for g in lay.ground)


def _choose(rng: Rng, table: tuple[tuple[float, Factory], ...]) -> Factory:
    weights = np.asarray([w for w, _ in table])
    return table[int(rng.choice(len(table), p=weights / weights.sum()))][1]


def _lay_objects(lay: _Layout) -> None:
    rng = lay.rng
    for _ in range(int(rng.poisson(lay.config.violations))):
        lay.place(_choose(rng, _VIOLATION_FACTORIES))
    for _ in range(int(rng.poisson(lay.config.confusers))):
        lay.place(_choose(rng, _CONFUSER_FACTORIES))
    for _ in range(int(rng.poisson(lay.config.trees))):
        lay.place(lambda r, c, h: ob.tree(r, c), tries=5)


def _light_active_sites(lay: _Layout) -> None:
    """Mark machinery and trucks lit when the world has night work going on."""
    if lay.rng.random() >= lay.config.night_active_site_probability:
        return
    lay.things = [
        SceneObject(**{**o.__dict__, "lit": True}) if o.kind in _MACHINES else o for o in lay.things
    ]


def generate_world(seed: int, config: WorldConfig | None = None) -> World:
    """A reproducible world for ``seed``: same seed and config, same objects, same pixels."""
    cfg = config or WorldConfig()
    lay = _Layout(seed, cfg)
    base = _lay_ground(lay)
    _lay_buildings(lay)
    _lay_objects(lay)
    _light_active_sites(lay)
    rng = lay.rng
    sun = Sun(float(rng.uniform(0, 2 * math.pi)), math.radians(float(rng.uniform(40, 75))))
    ordered = sorted(lay.things, key=lambda o: (o.base_m, o.kind is ObjectKind.TREE))
    return World(
        extent=(0.0, 0.0, cfg.size_m, cfg.size_m),
        objects=(*lay.ground, *ordered),
        sun=sun,
        ground_kind=base,
        seed=seed,
    )


@dataclass(frozen=True)
class Background:
    """A violation-free world and the free-space facts needed to add objects to it later.

    The patrol simulator lets violations appear and vanish over time on top of a static scene;
    :meth:`allows` applies the same placement rules as :func:`generate_world` (no overlap with
    placed footprints, only vehicles on roads, nothing on water), and ``roofs`` are the
    buildings a rooftop shed may stand on.
    """

    world: World
    roofs: tuple[SceneObject, ...]
    blocked: tuple[Polygon, ...]

    def allows(
        self, obj: SceneObject, others: Sequence[Polygon] = (), clearance_m: float = 0.6
    ) -> bool:
        """Whether ``obj`` may stand on the ground here, away from ``others`` too."""
        grown = obj.footprint.buffer(clearance_m)
        if any(grown.intersects(b) for b in (*self.blocked, *others)):
            return False
        for g in self.world.objects:
            if not g.is_ground or not g.footprint.intersects(obj.footprint):
                continue
            if g.kind is ObjectKind.WATER or (
                g.kind is ObjectKind.ROAD and obj.kind not in _ROAD_USERS
            ):
                return False
        return True


def generate_background(seed: int, config: WorldConfig | None = None) -> Background:
    """A reproducible world like :func:`generate_world` but without any labelled object.

    ``config.violations`` is ignored (treated as 0) and rooftop sheds are left out, so every
    violation in a simulated world is one the simulator placed and knows the lifetime of.
    """
    cfg = replace(config or WorldConfig(), violations=0.0)
    lay = _Layout(seed, cfg)
    base = _lay_ground(lay)
    _lay_buildings(lay)
    _lay_objects(lay)
    rng = lay.rng
    sun = Sun(float(rng.uniform(0, 2 * math.pi)), math.radians(float(rng.uniform(40, 75))))
    kept = [o for o in lay.things if o.label is None]
    ordered = sorted(kept, key=lambda o: (o.base_m, o.kind is ObjectKind.TREE))
    world = World(
        extent=(0.0, 0.0, cfg.size_m, cfg.size_m),
        objects=(*lay.ground, *ordered),
        sun=sun,
        ground_kind=base,
        seed=seed,
    )
    return Background(world, tuple(lay.roofs), tuple(lay.blocked))
