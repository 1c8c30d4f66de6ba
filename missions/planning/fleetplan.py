"""The static part of a day's plan: cells → nests → sortie templates, for the whole fleet.

Built once per change of grid, nests or permanent no-fly zones and reused by every schedule
and rapid-response query. Permanent zones shape the templates; time-windowed zones are checked
when a template is given a start time (:mod:`missions.planning.schedule`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from missions.fleet.profiles import Nest
from missions.planning.assign import AssignConfig, assign_cells, reach_distances
from missions.planning.camera import SurveySettings, patrol_survey
from missions.planning.cells import CellTable
from missions.planning.errors import PlanningError
from missions.planning.frame import MetricFrame
from missions.planning.nofly import DEFAULT_MARGIN_M, NoFlyZone, active_zones, obstacle_union
from missions.planning.packing import PackConfig, Packing, pack_nest
from missions.planning.transit import XY, TransitPlanner

__all__ = ["FleetPlan", "FleetPlanConfig", "base_plan", "plan_fleet"]

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class FleetPlanConfig:
    survey: SurveySettings | None = None  # default: patrol_survey of the first nest's camera
    margin_m: float = DEFAULT_MARGIN_M
    assign: AssignConfig = field(default_factory=AssignConfig)
    pack: PackConfig = field(default_factory=PackConfig)


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
    packings: list[Packing]

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
    return plan
