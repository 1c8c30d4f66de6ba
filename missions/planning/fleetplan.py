"""The static part of a day's plan: cells → nests → sortie templates, for the whole fleet.

Built once per change of grid, nests or permanent no-fly zones and reused by every schedule
and rapid-response query. Permanent zones shape the templates; time-windowed zones are checked
when a template is given a start time (:mod:`missions.planning.schedule`).

Round-the-clock classes (the core) are also *shared*: a core template's cells are also given,
as a template of its own, to every nest whose no-fly-aware distance to each of them is within
:attr:`FleetPlanConfig.share_extra_m` of the nearest nest's and that can fly them on one
battery. Cell ages are fleet-wide, so whichever nest is charged first flies the cells that are
due, and nests whose own cells are daytime-only put their nights to work on the core instead
of idling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from missions.fleet.profiles import Nest
from missions.geo.layers import PriorityClass
from missions.planning.assign import AssignConfig, assign_cells, reach_distances, reachable
from missions.planning.builder import SortieRequest, fitting_sortie
from missions.planning.camera import SurveySettings, patrol_survey
from missions.planning.cells import CellTable
from missions.planning.errors import PlanningError
from missions.planning.frame import MetricFrame
from missions.planning.nofly import DEFAULT_MARGIN_M, NoFlyZone, active_zones, obstacle_union
from missions.planning.packing import PackConfig, Packing, pack_nest
from missions.planning.sortie import Sortie
from missions.planning.transit import XY, TransitPlanner

__all__ = ["FleetPlan", "FleetPlanConfig", "base_plan", "plan_fleet"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class FleetPlanConfig:
    survey: SurveySettings | None = None  # default: patrol_survey of the first nest's camera
    margin_m: float = DEFAULT_MARGIN_M
    assign: AssignConfig = field(default_factory=AssignConfig)
    pack: PackConfig = field(default_factory=PackConfig)
    shared_classes: frozenset[PriorityClass] = frozenset({PriorityClass.CORE})
    # a nest this much farther than the nearest one still helps (on the demo district 8 and
    # 15 km met no more core visits than 5 km: 77.4 % against 78.0 %; battery binds first)
    share_extra_m: float = 5000.0


@dataclass
class FleetPlan:
    """Everything a schedule or a rapid-response query needs, in the planning CRS."""

    frame: MetricFrame
    cells: CellTable
    nests: list[Nest]
    nests_xy: list[XY]
    zones: list[NoFlyZone]
    tz: ZoneInfo
    survey: SurveySettings
    transit: TransitPlanner  # around the permanent zones
    margin_m: float
    assignment: IntArray  # nest index per cell, -1 where none reaches it
    packings: list[Packing]  # per nest: own templates first, then shared ones
    shared_from: list[int] = field(default_factory=list)  # per nest: first shared template

    def own_templates(self, nest: int) -> range:
        """Indices of the templates over the cells assigned to ``nest`` (not shared ones)."""
        pk = self.packings[nest]
        end = self.shared_from[nest] if self.shared_from else len(pk.sorties)
        return range(end)

    @property
    def unplanned_cells(self) -> list[str]:
        lost = self.cells.ids[self.assignment < 0].tolist()
        return [*lost, *(c for p in self.packings for c in p.unplanned)]


def base_plan(
    *,
    cells: CellTable,
    nests: Sequence[Nest],
    frame: MetricFrame,
    zones: Sequence[NoFlyZone] = (),
    tz: ZoneInfo,
    config: FleetPlanConfig | None = None,
) -> FleetPlan:
    """The plan's fixed parts (nests, zones, survey, transit) with no cells assigned or packed.

    Enough for rapid response and reach maps, which do not need sortie templates.
    """
    cfg = config or FleetPlanConfig()
    if not nests:
        raise PlanningError("no nests to plan for; add nests with `nestpatrol nests add`")
    survey = cfg.survey or patrol_survey(nests[0].profile.camera)
    permanent = [z for z in zones if z.permanent]
    blocking = active_zones(
        permanent, start=None, end=None, tz=tz, max_altitude_m=survey.altitude_m
    )
    return FleetPlan(
        frame=frame,
        cells=cells,
        nests=list(nests),
        nests_xy=[frame.point(n.lon, n.lat) for n in nests],
        zones=list(zones),
        tz=tz,
        survey=survey,
        transit=TransitPlanner(obstacle_union(blocking, cfg.margin_m)),
        margin_m=cfg.margin_m,
        assignment=np.full(len(cells), -1, dtype=np.int64),
        packings=[],
    )


def plan_fleet(
    *,
    cells: CellTable,
    nests: Sequence[Nest],
    frame: MetricFrame,
    zones: Sequence[NoFlyZone] = (),
    tz: ZoneInfo,
    config: FleetPlanConfig | None = None,
) -> FleetPlan:
    """Assign cells to nests and pack each nest's cells into sortie templates."""
    cfg = config or FleetPlanConfig()
    plan = base_plan(cells=cells, nests=nests, frame=frame, zones=zones, tz=tz, config=cfg)
    dist = reach_distances(plan.nests_xy, cells.centroids, plan.transit)
    demand = cells.area_m2 * 86_400.0 / cells.revisit_s
    plan.assignment = assign_cells(nests=plan.nests, dist=dist, demand=demand, config=cfg.assign)
    plan.packings = [
        pack_nest(
            nest=nest,
            nest_xy=xy,
            cells=cells,
            idx=np.flatnonzero(plan.assignment == i),
            survey=plan.survey,
            transit=plan.transit,
            frame=frame,
            config=cfg.pack,
        )
        for i, (nest, xy) in enumerate(zip(plan.nests, plan.nests_xy, strict=True))
    ]
    plan.shared_from = [len(pk.sorties) for pk in plan.packings]
    _share(plan, dist, cfg)
    return plan


def _share(plan: FleetPlan, dist: FloatArray, cfg: FleetPlanConfig) -> None:
    """Give nearby nests copies of the shared-class templates (see the module doc).

    A copy flies the *same cells* as the original, from the helper's nest, so the groups stay
    one partition and a helper's flight refreshes a whole template (copies of other shapes
    leave templates half fresh on average while their other half starves: core met fell from
    0.66 to 0.59 on the demo district with a 12 km² core; same-cell copies raised it to 0.73).
    A copy that does not fit the helper's battery is not made.
    """
    if cfg.share_extra_m <= 0:
        return
    reach = reachable(plan.nests, dist, cfg.assign)
    d = np.where(reach, dist, np.inf)
    nearest = d.min(axis=0)
    copies: list[list[tuple[Sortie, PriorityClass, IntArray]]] = [[] for _ in plan.nests]
    for owner, pk in enumerate(plan.packings):
        for cls, idx in zip(pk.classes, pk.cell_index, strict=True):
            if cls not in cfg.shared_classes:
                continue
            near = (d[:, idx] <= nearest[idx] + cfg.share_extra_m).all(axis=1)
            for h in np.flatnonzero(near).tolist():
                copy = None if h == owner else _copy(plan, h, idx, cls, len(copies[h]))
                if copy is not None:
                    copies[h].append((copy, cls, idx))
    for pk, extra in zip(plan.packings, copies, strict=True):
        for copy, cls, idx in extra:
            pk.sorties.append(copy)
            pk.classes.append(cls)
            pk.cell_index.append(idx)


def _copy(plan: FleetPlan, h: int, idx: IntArray, cls: PriorityClass, k: int) -> Sortie | None:
    """Nest ``h``'s sortie over the cells ``idx``, or None if it cannot fly them on one battery."""
    nest = plan.nests[h]
    request = SortieRequest(
        sortie_id=f"{nest.nest_id}-{cls.value}-shared-{k:03d}",
        nest=nest,
        nest_xy=plan.nests_xy[h],
        area=plan.cells.union(idx),
        cell_ids=tuple(plan.cells.ids[idx].tolist()),
    )
    return fitting_sortie(request, survey=plan.survey, transit=plan.transit, frame=plan.frame)
