"""A nest's cells → sorties that each fit one battery, per priority class.

Cells of one class are packed together (a core sortie is flown every two hours; it must not drag
standard cells along). A chunk of cells is split along its longer axis until the estimated
duration (transit out and back, survey lines and turns, take-off and landing) fits
``fill_fraction`` of the plannable time; the split point leaves one part near a whole number of
sorties, so sorties come out nearly full. The built sortie's own duration (energy model on the
real path) is checked again and the chunk split once more if it does not fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from missions.fleet.profiles import Nest
from missions.geo.layers import PriorityClass
from missions.planning.builder import SortieRequest, fitting_sortie
from missions.planning.camera import SurveySettings
from missions.planning.cells import CellTable
from missions.planning.energy import landing_s, takeoff_s
from missions.planning.frame import MetricFrame
from missions.planning.sortie import Sortie
from missions.planning.transit import XY, TransitPlanner

__all__ = ["PackConfig", "Packing", "pack_nest"]

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class PackConfig:
    fill_fraction: float = 0.92  # aim estimates at this share of the plannable time


@dataclass
class Packing:
    """A nest's sortie templates (no start time yet) and the cells no sortie could take."""

    sorties: list[Sortie] = field(default_factory=list)
    classes: list[PriorityClass] = field(default_factory=list)
    cell_index: list[IntArray] = field(default_factory=list)  # rows of the CellTable per sortie
    unplanned: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Ctx:
    nest: Nest
    nest_xy: XY
    cells: CellTable
    survey: SurveySettings
    transit: TransitPlanner
    frame: MetricFrame
    config: PackConfig


def _estimate_s(ctx: _Ctx, idx: IntArray) -> float:
    p = ctx.nest.profile
    area = float(ctx.cells.area_m2[idx].sum())
    s = ctx.survey.swath_spacing_m
    lines = max(1.0, math.sqrt(area) / s)
    c = ctx.cells.centroids[idx]
    near = float(np.min(np.hypot(c[:, 0] - ctx.nest_xy[0], c[:, 1] - ctx.nest_xy[1])))
    survey = (area / s + lines * s) / p.cruise_speed_mps + 2 * lines * p.turn_time_s
    overhead = takeoff_s(p, ctx.survey.altitude_m) + landing_s(p, ctx.survey.altitude_m)
    return overhead + 2 * near / p.cruise_speed_mps + survey


def _split(ctx: _Ctx, idx: IntArray, estimate_s: float) -> tuple[IntArray, IntArray]:
    c = ctx.cells.centroids[idx]
    axis = int(np.argmax(np.ptp(c, axis=0)))
    order = idx[np.argsort(c[:, axis], kind="stable")]
    k = max(2, math.ceil(estimate_s / (ctx.config.fill_fraction * ctx.nest.profile.plannable_s)))
    cut = min(len(order) - 1, max(1, round(len(order) * (k // 2) / k)))
    return order[:cut], order[cut:]


def _pack(ctx: _Ctx, idx: IntArray, cls: PriorityClass, out: Packing) -> None:
    plannable = ctx.nest.profile.plannable_s
    est = _estimate_s(ctx, idx)
    if est > ctx.config.fill_fraction * plannable and len(idx) > 1:
        for part in _split(ctx, idx, est):
            _pack(ctx, part, cls, out)
        return
    request = SortieRequest(
        sortie_id=f"{ctx.nest.nest_id}-{cls.value}-{len(out.sorties):03d}",
        nest=ctx.nest,
        nest_xy=ctx.nest_xy,
        area=ctx.cells.union(idx),
        cell_ids=tuple(ctx.cells.ids[idx].tolist()),
    )
    sortie = fitting_sortie(request, survey=ctx.survey, transit=ctx.transit, frame=ctx.frame)
    if sortie is not None:
        out.sorties.append(sortie)
        out.classes.append(cls)
        out.cell_index.append(idx)
    elif len(idx) > 1:
        for part in _split(ctx, idx, max(est, plannable * 1.01)):
            _pack(ctx, part, cls, out)
    else:
        out.unplanned.extend(ctx.cells.ids[idx].tolist())


def pack_nest(
    *,
    nest: Nest,
    nest_xy: XY,
    cells: CellTable,
    idx: IntArray,
    survey: SurveySettings,
    transit: TransitPlanner,
    frame: MetricFrame,
    config: PackConfig | None = None,
) -> Packing:
    """Sortie templates covering the cells ``idx`` of ``cells`` from ``nest``, class by class."""
    ctx = _Ctx(nest, nest_xy, cells, survey, transit, frame, config or PackConfig())
    out = Packing()
    for cls in PriorityClass:
        members = idx[cells.priority[idx] == cls]
        if len(members):
            _pack(ctx, members, cls, out)
    return out
