"""The 24-hour schedule: when each nest flies which sortie template, with charge gaps.

An event simulation over the nests: whenever a nest's drone is charged, it flies the template
with the highest priority — the mean over its cells (by area) of class weight × overdue time
(a mean, so a small urgent template is not outweighed by a big lazy one), where the
overdue time is the one this flight prevents: the cell's lateness at the nest's *next* chance
(now + this sortie + recharge, or the next morning for daytime-only classes), at most the wait
until then; a deadline that falls before the next chance and is saved by flying now counts one
target period more (missed, the cell would stay stale about that long). Flying before the
deadline is the point: a greedy "most overdue first" serves only cells that already missed.
Lateness beyond a whole target period counts in full, so no cell starves. Standard and low
classes fly in daytime only, the core class around the clock; a template whose route meets a
time-windowed no-fly zone active during its flight waits. Nothing due: the nest flies early
what is nearest to due (at least half its target elapsed), else idles.

The same simulation with :attr:`Policy.ROUND_ROBIN` is the naive baseline: each nest cycles
through its templates in cell-id order, flying whenever charged, under the same rules.
"""

from __future__ import annotations

import dataclasses
import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from numpy.typing import NDArray

from missions.fleet.profiles import NestStatus
from missions.geo.layers import PriorityClass
from missions.planning.energy import charge_gap_s
from missions.planning.errors import PlanningError
from missions.planning.fleetplan import FleetPlan
from missions.planning.metrics import ClassMetrics, class_metrics
from missions.planning.nofly import NoFlyZone
from missions.planning.sortie import Sortie
from missions.planning.validate import validate_sortie

__all__ = [
    "Policy",
    "Schedule",
    "ScheduleConfig",
    "daytime_windows",
    "initial_ages",
    "schedule_day",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
_GOLDEN = 0.6180339887498949


class Policy(StrEnum):
    PRIORITY = "priority"  # overdue time × class weight (ours)
    ROUND_ROBIN = "round-robin"  # cycle by cell id (the naive baseline)


def _weights() -> dict[PriorityClass, float]:
    """Visits per day (12 : 1 : 1/7), with core × 4 more: the 2-hour core promise comes first."""
    return {PriorityClass.CORE: 48.0, PriorityClass.STANDARD: 1.0, PriorityClass.LOW: 1.0 / 7.0}


@dataclass(frozen=True)
class ScheduleConfig:
    start: datetime  # aware
    horizon_s: float = 86_400.0
    daytime_start: time = time(7, 0)  # local
    daytime_end: time = time(19, 0)
    daytime_only: frozenset[PriorityClass] = frozenset({PriorityClass.STANDARD, PriorityClass.LOW})
    class_weight: Mapping[PriorityClass, float] = field(default_factory=_weights)
    idle_step_s: float = 300.0  # how long a nest with nothing due waits before looking again
    min_charge_s: float = 300.0  # battery cooling and swap checks even after a short flight
    early_fraction: float = 0.5  # an idle nest may fly cells this far (share of target) from due


@dataclass
class Schedule:
    """Sorties with start times, the visits they give each cell, and how well targets are met."""

    policy: Policy
    config: ScheduleConfig
    sorties: list[Sortie]
    nest_index: list[int]
    classes: list[PriorityClass]
    visits: list[list[float]]  # per cell of the plan's CellTable, seconds from the start
    last_seen_s: FloatArray  # per cell, before the start (negative)
    metrics: dict[PriorityClass, ClassMetrics]
    flight_s_per_nest: list[float]

    @property
    def flight_hours(self) -> float:
        return sum(self.flight_s_per_nest) / 3600.0

    @property
    def utilisation(self) -> list[float]:
        """Share of the horizon each nest's drone is airborne."""
        return [f / self.config.horizon_s for f in self.flight_s_per_nest]


def initial_ages(plan: FleetPlan) -> FloatArray:
    """A steady-state guess of each cell's age at the start, for when no history is known.

    Cells flown together share an age; sorties' ages are spread evenly over [0, target) (golden
    ratio sequence), as if the fleet had been flying these sorties at the targets' pace. Use
    real ages from coverage tracking when there are any.
    """
    ages = np.zeros(len(plan.cells))
    k = 0
    for pk in plan.packings:
        for idx in pk.cell_index:
            ages[idx] = ((k * _GOLDEN) % 1.0) * plan.cells.revisit_s[idx]
            k += 1
    return ages


def _charge_s(plan: FleetPlan, nest: int, flight_s: float, cfg: ScheduleConfig) -> float:
    return charge_gap_s(plan.nests[nest].profile, flight_s, cfg.min_charge_s)


def daytime_windows(cfg: ScheduleConfig, tz: ZoneInfo) -> list[tuple[float, float]]:
    """Daytime windows as (start, end) seconds from the schedule start."""
    local = cfg.start.astimezone(tz)
    out: list[tuple[float, float]] = []
    day = local.date() - timedelta(days=1)
    while True:
        w0 = datetime.combine(day, cfg.daytime_start, tzinfo=local.tzinfo)
        w1 = datetime.combine(day, cfg.daytime_end, tzinfo=local.tzinfo)
        a, b = (w0 - cfg.start).total_seconds(), (w1 - cfg.start).total_seconds()
        if a > cfg.horizon_s:
            return out
        out.append((a, b))
        day += timedelta(days=1)


@dataclass
class _Nest:
    """A nest's templates as flat arrays for fast priority sums."""

    templates: list[int]
    cells: IntArray  # concatenated cell rows
    offsets: IntArray  # start of each template in ``cells``
    weight_area: FloatArray  # per entry of ``cells``
    area: FloatArray  # per template
    duration_s: FloatArray
    cycle_s: FloatArray
    classes: list[PriorityClass]
    windowed: list[list[NoFlyZone]]  # time-windowed zones each template's route meets
    order: list[int]  # round-robin order (by smallest cell id)
    pointer: int = 0


def _prepare(plan: FleetPlan, i: int, cfg: ScheduleConfig) -> _Nest:
    pk = plan.packings[i]
    cells = plan.cells
    n = len(pk.sorties)
    idx = pk.cell_index
    flat = np.concatenate(idx) if n else np.empty(0, dtype=np.int64)
    offsets = np.cumsum([0, *[len(x) for x in idx[:-1]]]).astype(np.int64) if n else flat
    w = np.array([cfg.class_weight[c] for c in cells.priority[flat]], dtype=float)
    dur = np.array([s.estimated_duration_s for s in pk.sorties], dtype=float)
    cycle = dur + np.array([_charge_s(plan, i, d, cfg) for d in dur], dtype=float)
    windowed_zones = [z for z in plan.zones if not z.permanent]
    windowed = []
    for s in pk.sorties:
        xy = plan.frame.to_metric([w.lon for w in s.waypoints], [w.lat for w in s.waypoints])
        line = shapely.LineString(xy)
        windowed.append(
            [
                z
                for z in windowed_zones
                if shapely.intersects(line, shapely.buffer(z.geometry, plan.margin_m))
            ]
        )
    order = sorted(range(n), key=lambda j: min(cells.ids[idx[j]].tolist()))
    return _Nest(
        templates=list(range(n)),
        cells=flat,
        offsets=offsets,
        weight_area=w * cells.area_m2[flat],
        area=np.array([cells.area_m2[x].sum() for x in idx], dtype=float),
        duration_s=dur,
        cycle_s=cycle,
        classes=list(pk.classes),
        windowed=windowed,
        order=order,
    )


@dataclass
class _Sim:
    plan: FleetPlan
    cfg: ScheduleConfig
    policy: Policy
    last: FloatArray
    days: list[tuple[float, float]]
    visits: list[list[float]]
    out: list[tuple[float, int, int]] = field(default_factory=list)  # (start, nest, template)

    def allowed(self, nest: _Nest, j: int, t: float) -> bool:
        end = t + float(nest.duration_s[j])
        if end > self.cfg.horizon_s:
            return False
        if nest.classes[j] in self.cfg.daytime_only and not any(
            a <= t and end <= b for a, b in self.days
        ):
            return False
        if nest.windowed[j]:
            t0 = self.cfg.start + timedelta(seconds=t)
            t1 = self.cfg.start + timedelta(seconds=end)
            if any(z.active_during(t0, t1, self.plan.tz) for z in nest.windowed[j]):
                return False
        return True

    def next_chance(self, t: float, cls: PriorityClass) -> float:
        """Earliest time from ``t`` at which a sortie of class ``cls`` may start."""
        if cls not in self.cfg.daytime_only:
            return t
        for a, b in self.days:
            if t < b:
                return max(t, a)
        return self.cfg.horizon_s + self.cfg.horizon_s  # no more daytime within the horizon

    def first_allowed(self, nest: _Nest, t: float, value: FloatArray, floor: float) -> int | None:
        """The allowed template with the highest ``value`` above ``floor`` (None if none)."""
        for j in np.argsort(-value, kind="stable").tolist():
            if value[j] <= floor:
                return None
            if self.allowed(nest, j, t):
                return int(j)
        return None

    def pick_round_robin(self, nest: _Nest, t: float) -> int | None:
        n = len(nest.order)
        for step in range(n):
            j = nest.order[(nest.pointer + step) % n]
            if self.allowed(nest, j, t):
                nest.pointer = (nest.pointer + step + 1) % n
                return j
        return None

    def pick(self, nest: _Nest, t: float) -> int | None:
        if not nest.templates:
            return None
        if self.policy is Policy.ROUND_ROBIN:
            return self.pick_round_robin(nest, t)
        target = self.plan.cells.revisit_s[nest.cells]
        per = np.diff(np.r_[nest.offsets, len(nest.cells)])
        # lateness when the camera passes (mid-sortie), now and at the next chance
        due = t + np.repeat(nest.duration_s / 2.0, per) - self.last[nest.cells] - target
        lead = np.array(
            [
                self.next_chance(t + c, k) - t
                for c, k in zip(nest.cycle_s, nest.classes, strict=True)
            ]
        )
        lead = np.repeat(lead, per)
        late = np.minimum(np.maximum(0.0, due + lead), lead) + np.maximum(0.0, due - target)
        saved = np.where((due <= 0.0) & (due + lead > 0.0), target, 0.0)
        score = np.add.reduceat(nest.weight_area * (late + saved), nest.offsets) / nest.area
        j = self.first_allowed(nest, t, score, 0.0)
        if j is not None:
            return j
        # nothing due by the next chance: fly early what is nearest to due (in target periods)
        # once ``early_fraction`` of its target has passed — idle capacity saves no one
        area = self.plan.cells.area_m2[nest.cells]
        ripe = np.add.reduceat(area * (due + lead) / target, nest.offsets) / nest.area
        return self.first_allowed(nest, t, ripe, -self.cfg.early_fraction)

    def fly(self, nest_i: int, nest: _Nest, j: int, t: float) -> float:
        dur = float(nest.duration_s[j])
        seen = t + dur / 2.0
        cells = nest.cells[
            nest.offsets[j] : nest.offsets[j] + len(self.plan.packings[nest_i].cell_index[j])
        ]
        self.last[cells] = seen
        for c in cells.tolist():
            self.visits[c].append(seen)
        self.out.append((t, nest_i, j))
        return t + float(nest.cycle_s[j])


def _run(sim: _Sim, nests: list[_Nest]) -> None:
    heap: list[tuple[float, int]] = []
    for i, n in enumerate(sim.plan.nests):
        if n.status is NestStatus.OFFLINE:
            continue
        busy = n.status in (NestStatus.FLYING, NestStatus.CHARGING)
        heap.append((n.profile.charge_time_s if busy else 0.0, i))
    heapq.heapify(heap)
    while heap:
        t, i = heapq.heappop(heap)
        if t >= sim.cfg.horizon_s:
            continue
        j = sim.pick(nests[i], t)
        nxt = t + sim.cfg.idle_step_s if j is None else sim.fly(i, nests[i], j, t)
        heapq.heappush(heap, (nxt, i))


def _instances(
    sim: _Sim, nests: list[_Nest]
) -> tuple[list[Sortie], list[int], list[PriorityClass]]:
    sorties, nest_index, classes = [], [], []
    seq: dict[int, int] = {}
    for t, i, j in sorted(sim.out):
        template = sim.plan.packings[i].sorties[j]
        start = sim.cfg.start + timedelta(seconds=t)
        seq[i] = seq.get(i, 0) + 1
        local = start.astimezone(sim.plan.tz)
        sortie = dataclasses.replace(
            template,
            sortie_id=f"{template.nest_id}-{local:%Y%m%d}-{seq[i]:03d}",
            waypoints=list(template.waypoints),
            cell_ids=list(template.cell_ids),
            planned_start=start,
        )
        validate_sortie(
            sortie,
            nest=sim.plan.nests[i],
            frame=sim.plan.frame,
            zones=sim.plan.zones,
            tz=sim.plan.tz,
        )
        sorties.append(sortie)
        nest_index.append(i)
        classes.append(nests[i].classes[j])
    return sorties, nest_index, classes


def schedule_day(
    plan: FleetPlan,
    *,
    config: ScheduleConfig,
    policy: Policy = Policy.PRIORITY,
    initial_age_s: FloatArray | None = None,
) -> Schedule:
    """Schedule the fleet over ``config.horizon_s`` and score it against the revisit targets.

    Every emitted sortie is validated (:func:`~missions.planning.validate.validate_sortie`) at
    its planned time; a violation is a planner bug and raises.
    """
    if config.start.tzinfo is None:
        raise PlanningError(
            "the schedule start must be timezone-aware, e.g. 2026-11-24T00:00+08:00"
        )
    cells = plan.cells
    ages = initial_ages(plan) if initial_age_s is None else np.asarray(initial_age_s)
    if len(ages) != len(cells):
        raise PlanningError(f"{len(ages)} initial ages for {len(cells)} cells; give one per cell")
    sim = _Sim(
        plan,
        config,
        policy,
        -ages.astype(float),
        daytime_windows(config, plan.tz),
        [[] for _ in range(len(cells))],
    )
    nests = [_prepare(plan, i, config) for i in range(len(plan.nests))]
    _run(sim, nests)
    sorties, nest_index, classes = _instances(sim, nests)
    flight = [0.0] * len(plan.nests)
    for s, i in zip(sorties, nest_index, strict=True):
        flight[i] += s.estimated_duration_s
    metrics = class_metrics(
        priority=cells.priority,
        revisit_s=cells.revisit_s,
        last_seen_s=-ages,
        visits=sim.visits,
        horizon_s=config.horizon_s,
    )
    return Schedule(
        policy, config, sorties, nest_index, classes, sim.visits, -ages, metrics, flight
    )
