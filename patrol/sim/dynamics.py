"""Ground truth that changes over simulated time: which violations a block holds, and when.

A simulated block is a static :class:`~detection.synthetic.layout.Background` plus
:class:`Violation` objects, each with an appearance and disappearance time. The rates in
:class:`Dynamics` are per block and simulated day; every draw comes from a generator seeded per
block, so a world is a pure function of its seed and inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from shapely import affinity
from shapely.geometry import Polygon, box

from detection.classes import ViolationClass
from detection.synthetic import objects as ob
from detection.synthetic.layout import Background
from detection.synthetic.world import ObjectKind, SceneObject
from missions.geo.layers import PermitKind
from patrol.errors import PatrolError

__all__ = [
    "Block",
    "Dynamics",
    "NightHours",
    "PermitArea",
    "SimWorldError",
    "Violation",
    "sample_violations",
]

Rng = np.random.Generator
Factory = Callable[[Rng, tuple[float, float], float], SceneObject]
ToWgs84 = Callable[[Polygon], Polygon]


class SimWorldError(PatrolError, ValueError):
    """The simulated world was asked for something it cannot give (bad input or time)."""


@dataclass(frozen=True)
class NightHours:
    """Local night hours (``start`` ≤ t or t < ``end`` when they wrap midnight)."""

    start: time = time(22, 0)
    end: time = time(6, 0)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    def contains(self, t: datetime) -> bool:
        """Whether ``t`` (timezone-aware) falls in the night hours of ``tz``."""
        if t.tzinfo is None or t.utcoffset() is None:
            raise SimWorldError(
                f"time {t.isoformat()} has no timezone; pass an aware datetime "
                "(e.g. datetime(..., tzinfo=UTC))"
            )
        local = t.astimezone(self.tz).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def meets(self, start: datetime, end: datetime) -> bool:
        """Whether [``start``, ``end``) holds any moment of the night hours."""
        if self.contains(start):
            return True
        local = start.astimezone(self.tz)  # outside them, night next begins at ``self.start``
        begins = datetime.combine(local.date(), self.start, tzinfo=self.tz)
        if begins <= local:
            begins += timedelta(days=1)
        return begins < end


@dataclass(frozen=True)
class Block:
    """One simulated square of the district, aligned to the unit grid.

    ``polygon`` is the square in WGS-84 lon/lat, ``bounds_m`` in the world's metric CRS.
    ``reason`` says why it was simulated: its priority class, or ``"permit"``.
    """

    block_id: str
    cell_id: str
    priority: str
    jurisdiction: str | None
    polygon: Polygon
    bounds_m: tuple[float, float, float, float]
    reason: str

    @property
    def size_m(self) -> float:
        """Side length of the square."""
        return self.bounds_m[2] - self.bounds_m[0]


@dataclass(frozen=True)
class PermitArea:
    """A permit's polygon in a block's local metres (origin at the block's south-west corner)."""

    kind: PermitKind
    area: Polygon


@dataclass(frozen=True)
class Violation:
    """One piece of ground truth with its lifetime.

    ``footprint`` is in WGS-84 lon/lat, ``object`` in the world's metric CRS. The object is on the
    ground from ``appears_at`` until ``disappears_at`` (``None``: beyond the horizon); a
    ``night_only`` object (lit machinery of a night site) is there only in night hours, a
    ``day_only`` one (legal machinery of a permitted site) only outside them. ``legal`` objects
    stand inside a permit, or are lawful daytime traffic (a muck truck that stops and leaves
    outside night hours: only night transport is a violation), and must not become tickets;
    ``preexisting`` ones were there before the simulation starts (the baseline).
    """

    violation_id: str
    label: ViolationClass
    kind: ObjectKind
    block_id: str
    cell_id: str
    priority: str
    jurisdiction: str | None
    footprint: Polygon
    object: SceneObject
    appears_at: datetime
    disappears_at: datetime | None
    night_only: bool = False
    legal: bool = False
    preexisting: bool = False
    day_only: bool = False
    night: NightHours = field(default_factory=NightHours)

    def active_at(self, t: datetime) -> bool:
        """Whether the object can be seen at ``t`` (lifetime and night/day hours)."""
        if t < self.appears_at or (self.disappears_at is not None and t >= self.disappears_at):
            return False
        if self.night_only or self.day_only:
            return self.night.contains(t) == self.night_only
        return True


@dataclass(frozen=True)
class Dynamics:
    """How violations come and go; rates are Poisson means per block and simulated day.

    Defaults give a 24-block world a few new events of each kind per day: new structures
    (steel sheds, some on roofs, and building frames) appear at uniform times and stay; waste
    is dumped mostly at night and cleared 6–48 h later; muck trucks stop for 0.5–3 h, mostly at
    night; one block in ten hosts a night-construction site whose lit machinery is there only
    in night hours; permitted sites show legal machinery in daytime.
    """

    new_structures_per_day: float = 0.1
    rooftop_fraction: float = 0.3
    frame_fraction: float = 0.3
    preexisting_structures: float = 0.3
    dumping_per_day: float = 0.15
    dumping_night_fraction: float = 0.75
    dumping_cleared_after_h: tuple[float, float] = (6.0, 48.0)
    muck_trucks_per_day: float = 0.3
    muck_truck_night_fraction: float = 0.7
    muck_truck_stay_h: tuple[float, float] = (0.5, 3.0)
    night_site_probability: float = 0.1
    night_site_machines: tuple[int, int] = (1, 2)
    legal_machines_per_permit: float = 2.0

    def __post_init__(self) -> None:
        rates = {k: v for k, v in self.__dict__.items() if isinstance(v, float)}
        if any(not (v >= 0 and math.isfinite(v)) for v in rates.values()):
            raise SimWorldError(f"Dynamics rates must be finite and ≥ 0, got {rates}")
        fractions = (
            self.rooftop_fraction,
            self.frame_fraction,
            self.dumping_night_fraction,
            self.muck_truck_night_fraction,
            self.night_site_probability,
        )
        if any(f > 1 for f in fractions):
            raise SimWorldError("Dynamics fractions and probabilities must lie in 0..1")
        for name in ("dumping_cleared_after_h", "muck_truck_stay_h", "night_site_machines"):
            lo, hi = getattr(self, name)
            if not 0 < lo <= hi:
                raise SimWorldError(f"Dynamics.{name}={(lo, hi)} must satisfy 0 < low ≤ high")


@dataclass
class _Ctx:
    """What sampling one block needs; ``taken`` grows as violations are placed."""

    block: Block
    background: Background
    rng: Rng
    start: datetime
    end: datetime
    night: NightHours
    to_wgs84: ToWgs84
    taken: list[Polygon] = field(default_factory=list)
    out: list[tuple[Violation, SceneObject]] = field(default_factory=list)

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    @property
    def local_square(self) -> Polygon:
        return box(0.0, 0.0, self.block.size_m, self.block.size_m)

    def when(self, night_fraction: float) -> datetime:
        """A uniform time of the horizon, at night with probability ``night_fraction``."""
        want_night = bool(self.rng.random() < night_fraction)
        t = self.start
        for _ in range(64):
            t = self.start + timedelta(hours=float(self.rng.uniform(0, self.hours)))
            if self.night.contains(t) == want_night:
                break
        return t

    def add(
        self,
        local: SceneObject,
        appears_at: datetime,
        disappears_at: datetime | None = None,
        *,
        night_only: bool = False,
        day_only: bool = False,
        legal: bool = False,
        preexisting: bool = False,
    ) -> None:
        x0, y0 = self.block.bounds_m[:2]
        metric = replace(
            local,
            footprint=affinity.translate(local.footprint, x0, y0),
            center_xy_m=(local.center_xy_m[0] + x0, local.center_xy_m[1] + y0),
        )
        label = local.label
        if label is None:
            raise SimWorldError(f"{local.kind.value} is not a violation kind")
        b = self.block
        v = Violation(
            violation_id=f"{b.block_id}/v{len(self.out):02d}",
            label=label,
            kind=local.kind,
            block_id=b.block_id,
            cell_id=b.cell_id,
            priority=b.priority,
            jurisdiction=b.jurisdiction,
            footprint=self.to_wgs84(metric.footprint),
            object=metric,
            appears_at=appears_at,
            disappears_at=disappears_at,
            night_only=night_only,
            legal=legal,
            preexisting=preexisting,
            day_only=day_only,
            night=self.night,
        )
        self.taken.append(local.footprint)
        self.out.append((v, local))


def _place_ground(
    ctx: _Ctx, factory: Factory, region: Polygon, tries: int = 25
) -> SceneObject | None:
    """Rejection sampling inside ``region`` with the background's placement rules."""
    minx, miny, maxx, maxy = region.bounds
    for _ in range(tries):
        centre = (float(ctx.rng.uniform(minx, maxx)), float(ctx.rng.uniform(miny, maxy)))
        obj = factory(ctx.rng, centre, float(ctx.rng.uniform(0, math.pi)))
        if region.contains(obj.footprint) and ctx.background.allows(obj, ctx.taken):
            return obj
    return None


def _place_rooftop(ctx: _Ctx, tries: int = 10) -> SceneObject | None:
    """A steel shed on a random roof of the block (not over a rooftop tarp or another shed)."""
    roofs = [r for r in ctx.background.roofs if ctx.local_square.contains(r.footprint)]
    if not roofs:
        return None
    roof = roofs[int(ctx.rng.integers(len(roofs)))]
    inner = roof.footprint.buffer(-0.8)
    if inner.is_empty:
        return None
    on_roof = [o.footprint for o in ctx.background.world.objects if o.base_m > 0]
    minx, miny, maxx, maxy = inner.bounds
    for _ in range(tries):
        centre = (float(ctx.rng.uniform(minx, maxx)), float(ctx.rng.uniform(miny, maxy)))
        obj = ob.steel_shed(ctx.rng, centre, roof.heading_rad, base_m=roof.height_m)
        clear = not any(obj.footprint.intersects(p) for p in (*on_roof, *ctx.taken))
        if inner.contains(obj.footprint) and clear:
            return obj
    return None


def _structure(ctx: _Ctx, dyn: Dynamics) -> SceneObject | None:
    roll = ctx.rng.random()
    if roll < dyn.rooftop_fraction:
        return _place_rooftop(ctx)
    factory: Factory = ob.building_frame if ctx.rng.random() < dyn.frame_fraction else ob.steel_shed
    return _place_ground(ctx, factory, ctx.local_square)


def _structures(ctx: _Ctx, dyn: Dynamics) -> None:
    for _ in range(int(ctx.rng.poisson(dyn.preexisting_structures))):
        obj = _structure(ctx, dyn)
        if obj is not None:
            since = ctx.start - timedelta(days=float(ctx.rng.uniform(30, 365)))
            ctx.add(obj, since, preexisting=True)
    for _ in range(int(ctx.rng.poisson(dyn.new_structures_per_day * ctx.hours / 24))):
        obj = _structure(ctx, dyn)
        if obj is not None:
            at = ctx.start + timedelta(hours=float(ctx.rng.uniform(0, ctx.hours)))
            ctx.add(obj, at)


def _transients(ctx: _Ctx, dyn: Dynamics) -> None:
    """Dumped waste (cleared after a while) and stopping muck trucks."""
    for _ in range(int(ctx.rng.poisson(dyn.dumping_per_day * ctx.hours / 24))):
        at = ctx.when(dyn.dumping_night_fraction)
        stay_h = float(ctx.rng.uniform(*dyn.dumping_cleared_after_h))
        obj = _place_ground(ctx, ob.waste_pile, ctx.local_square)
        if obj is not None:
            ctx.add(obj, at, at + timedelta(hours=stay_h))
    for _ in range(int(ctx.rng.poisson(dyn.muck_trucks_per_day * ctx.hours / 24))):
        at = ctx.when(dyn.muck_truck_night_fraction)
        stay_h = float(ctx.rng.uniform(*dyn.muck_truck_stay_h))
        obj = _place_ground(ctx, _truck(lit=ctx.night.contains(at)), ctx.local_square)
        if obj is not None:
            leaves = at + timedelta(hours=stay_h)
            # a truck stopping by day is traffic, the night-construction rule's view too
            ctx.add(obj, at, leaves, legal=not ctx.night.meets(at, leaves))


def _truck(lit: bool) -> Factory:
    def make(rng: Rng, centre: tuple[float, float], heading: float) -> SceneObject:
        return ob.muck_truck(rng, centre, heading, lit=lit)

    return make


def _machine(lit: bool) -> Factory:
    def make(rng: Rng, centre: tuple[float, float], heading: float) -> SceneObject:
        factory = ob.excavator if rng.random() < 0.7 else ob.crane
        return factory(rng, centre, heading, lit=lit)

    return make


def _night_site(ctx: _Ctx, dyn: Dynamics) -> None:
    """Illegal night construction: lit machinery, there every night of the horizon."""
    if ctx.rng.random() >= dyn.night_site_probability:
        return
    lo, hi = dyn.night_site_machines
    for _ in range(int(ctx.rng.integers(lo, hi + 1))):
        obj = _place_ground(ctx, _machine(lit=True), ctx.local_square)
        if obj is not None:
            ctx.add(obj, ctx.start, night_only=True)


def _permitted(ctx: _Ctx, dyn: Dynamics, permits: Sequence[PermitArea]) -> None:
    """Legal activity inside permits: daytime machinery, night work, a disposal site's waste."""
    for permit in permits:
        region = permit.area.intersection(ctx.local_square)
        if not isinstance(region, Polygon) or region.area < 100.0:
            continue
        for _ in range(int(ctx.rng.poisson(dyn.legal_machines_per_permit))):
            machines = permit.kind is not PermitKind.DISPOSAL_SITE
            night = permit.kind is PermitKind.NIGHT_WORK
            factory = _machine(lit=night) if machines else ob.waste_pile
            obj = _place_ground(ctx, factory, region)
            if obj is not None:
                ctx.add(
                    obj, ctx.start, legal=True, night_only=night, day_only=machines and not night
                )


def sample_violations(
    block: Block,
    background: Background,
    *,
    dynamics: Dynamics,
    horizon: tuple[datetime, datetime],
    night: NightHours,
    permits: Sequence[PermitArea],
    rng: Rng,
    to_wgs84: ToWgs84,
) -> list[tuple[Violation, SceneObject]]:
    """Every violation of one block over ``horizon``, each with its object in block-local metres.

    Violations never overlap each other (whatever their times), the background's buildings or
    water, and only trucks and cranes stand on roads.
    """
    ctx = _Ctx(block, background, rng, horizon[0], horizon[1], night, to_wgs84)
    _permitted(ctx, dynamics, permits)
    _night_site(ctx, dynamics)
    _structures(ctx, dynamics)
    _transients(ctx, dynamics)
    return ctx.out
