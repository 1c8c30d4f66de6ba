"""Write a day's schedule: ``schedule.json``, ``sorties.geojson`` (RFC 7946) and a PNG.

``schedule.json`` holds the per-nest timelines, each cell's planned visits (seconds after the
start, to keep 50k cells small), and the metrics of our schedule, of the naive baseline and the
capacity bound, so a reader sees at once whether the targets are feasible and how far off.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from missions.fleet.profiles import NestStatus
from missions.geo.layers import PriorityClass
from missions.planning.energy import charge_gap_s
from missions.planning.fleetplan import FleetPlan
from missions.planning.metrics import CapacityBound, capacity_bound
from missions.planning.schedule import Schedule, daytime_windows

__all__ = ["ScheduleReport", "report_for", "write_schedule"]


@dataclass(frozen=True)
class ScheduleReport:
    """Ours, the naive baseline and the capacity bound, side by side."""

    ours: Schedule
    baseline: Schedule
    bound: CapacityBound

    def table(self) -> list[dict[str, Any]]:
        """Rows per class: fraction of required visits met and worst gap, ours vs baseline."""
        rows = []
        for cls in PriorityClass:
            a, b = self.ours.metrics[cls], self.baseline.metrics[cls]
            if a.cells == 0:
                continue
            rows.append(
                {
                    "class": cls.value,
                    "cells": a.cells,
                    "required_visits": a.required_visits,
                    "met_fraction": round(a.fraction_met, 4),
                    "baseline_met_fraction": round(b.fraction_met, 4),
                    "worst_gap_s": round(a.worst_gap_s),
                    "baseline_worst_gap_s": round(b.worst_gap_s),
                }
            )
        return rows


def _planned_rate(plan: FleetPlan, min_charge_s: float) -> float:
    """Σ over nests of their sorties' area per second of flight plus recharge."""
    rate = 0.0
    for i, (nest, pk) in enumerate(zip(plan.nests, plan.packings, strict=True)):
        own = plan.own_templates(i)  # shared templates would count their cells twice
        if nest.status is NestStatus.OFFLINE or not own:
            continue
        area = sum(float(plan.cells.area_m2[pk.cell_index[j]].sum()) for j in own)
        cycle = sum(
            pk.sorties[j].estimated_duration_s
            + charge_gap_s(nest.profile, pk.sorties[j].estimated_duration_s, min_charge_s)
            for j in own
        )
        rate += area / cycle
    return rate


def report_for(plan: FleetPlan, ours: Schedule, baseline: Schedule) -> ScheduleReport:
    """Our schedule, the baseline and the capacity bound for the same plan."""
    cfg = ours.config
    day_s = sum(
        max(0.0, min(b, cfg.horizon_s) - max(a, 0.0)) for a, b in daytime_windows(cfg, plan.tz)
    )
    bound = capacity_bound(
        nests=plan.nests,
        swath_m=plan.survey.swath_spacing_m,
        area_m2=plan.cells.area_m2,
        revisit_s=plan.cells.revisit_s,
        daytime_only=np.isin(plan.cells.priority, list(cfg.daytime_only)),
        daytime_fraction=day_s / cfg.horizon_s,
        planned_fleet_m2_per_s=_planned_rate(plan, cfg.min_charge_s),
    )
    return ScheduleReport(ours, baseline, bound)


def _summary(s: Schedule) -> dict[str, Any]:
    return {
        "policy": s.policy.value,
        "sorties": len(s.sorties),
        "flight_hours": round(s.flight_hours, 2),
        "nest_utilisation": [round(u, 4) for u in s.utilisation],
        "classes": {
            c.value: {
                "cells": m.cells,
                "required_visits": m.required_visits,
                "met_visits": m.met_visits,
                "met_fraction": round(m.fraction_met, 4),
                "worst_gap_s": round(m.worst_gap_s, 1),
                "planned_visits": m.planned_visits,
            }
            for c, m in s.metrics.items()
        },
    }


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


def _timelines(plan: FleetPlan, s: Schedule) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"nest_id": n.nest_id, "sorties": []} for n in plan.nests]
    for sortie, i, cls in zip(s.sorties, s.nest_index, s.classes, strict=True):
        out[i]["sorties"].append(
            {
                "sortie_id": sortie.sortie_id,
                "class": cls.value,
                "start": _iso(sortie.planned_start),
                "end": _iso(sortie.planned_end),
                "duration_s": round(sortie.estimated_duration_s, 1),
                "cells": len(sortie.cell_ids),
            }
        )
    return out


def _document(plan: FleetPlan, report: ScheduleReport) -> dict[str, Any]:
    ours = report.ours
    visits = {
        str(cid): [round(v) for v in vs]
        for cid, vs in zip(plan.cells.ids.tolist(), ours.visits, strict=True)
        if vs
    }
    return {
        "start": ours.config.start.isoformat(),
        "horizon_s": ours.config.horizon_s,
        "nests": _timelines(plan, ours),
        "cell_visits_s_after_start": visits,
        "unplanned_cells": plan.unplanned_cells,
        "metrics": {
            "ours": _summary(ours),
            "baseline": _summary(report.baseline),
            "capacity_bound": {
                "demand_m2_per_s": round(report.bound.demand_m2_per_s, 2),
                "daytime_only_demand_m2_per_s": round(report.bound.daytime_demand_m2_per_s, 2),
                "daytime_fraction": round(report.bound.daytime_fraction, 4),
                "ideal_fleet_m2_per_s": round(report.bound.fleet_m2_per_s, 2),
                "planned_sorties_m2_per_s": round(report.bound.planned_fleet_m2_per_s, 2),
                "demand_over_ideal_capacity": round(report.bound.ratio, 4),
                "demand_over_planned_capacity": round(report.bound.planned_ratio, 4),
            },
        },
    }


def _geojson(plan: FleetPlan, s: Schedule) -> dict[str, Any]:
    features = []
    for sortie, cls in zip(s.sorties, s.classes, strict=True):
        start, end = sortie.planned_start, sortie.planned_end
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[round(w.lon, 7), round(w.lat, 7)] for w in sortie.waypoints],
                },
                "properties": {
                    "sortie_id": sortie.sortie_id,
                    "nest_id": sortie.nest_id,
                    "class": cls.value,
                    "start": _iso(start),
                    "end": _iso(end),
                    "duration_s": round(sortie.estimated_duration_s, 1),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _png(plan: FleetPlan, s: Schedule, path: Path) -> None:
    import matplotlib  # noqa: PLC0415 (heavy, only when writing)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, (ax_map, ax_time) = plt.subplots(1, 2, figsize=(16, 8), width_ratios=[1, 1.2])
    cmap = plt.get_cmap("tab20")
    for sortie, i in zip(s.sorties, s.nest_index, strict=True):
        xy = np.array([(w.lon, w.lat) for w in sortie.waypoints])
        ax_map.plot(xy[:, 0], xy[:, 1], lw=0.4, color=cmap(i % 20))
    nxy = np.array([(n.lon, n.lat) for n in plan.nests])
    ax_map.scatter(nxy[:, 0], nxy[:, 1], marker="^", color="black", zorder=3)
    ax_map.set_title(f"{len(s.sorties)} sorties, {s.flight_hours:.1f} flight hours")
    ax_map.set_aspect("equal")
    colors = {
        PriorityClass.CORE: "tab:red",
        PriorityClass.STANDARD: "tab:blue",
        PriorityClass.LOW: "tab:green",
    }
    for sortie, i, cls in zip(s.sorties, s.nest_index, s.classes, strict=True):
        t0 = ((sortie.planned_start or s.config.start) - s.config.start).total_seconds() / 3600
        ax_time.barh(i, sortie.estimated_duration_s / 3600, left=t0, color=colors[cls])
    ax_time.set_yticks(range(len(plan.nests)), [n.nest_id for n in plan.nests])
    ax_time.set_xlabel("hours after start (red core, blue standard, green low)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_schedule(directory: Path | str, plan: FleetPlan, report: ScheduleReport) -> list[Path]:
    """Write schedule.json, sorties.geojson and schedule.png into ``directory``."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "schedule.json", out / "sorties.geojson", out / "schedule.png"]
    paths[0].write_text(json.dumps(_document(plan, report), indent=1), encoding="utf-8")
    paths[1].write_text(json.dumps(_geojson(plan, report.ours)), encoding="utf-8")
    _png(plan, report.ours, paths[2])
    return paths
