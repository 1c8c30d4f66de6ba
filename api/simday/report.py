"""The simulated day's report: ``report.json`` and the printed tables."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import shapely
from rich.console import Console
from rich.table import Table

from api.simday.flow import DayResult
from api.simday.truth import ClueFact, ViolationResult
from api.tickets.flows import TicketConfig

__all__ = ["print_report", "report_dict", "write_report"]

_FULL_MP = 1e-6  # megapixels per pixel

CORE_TARGET = 0.90  # share of core violations found within one revisit interval
FALSE_TARGET = 5.0  # false clues per 100 km² per day


def _cost(result: DayResult) -> dict[str, Any]:
    s = result.imaging
    camera = next(iter(result.day.plan.nests)).profile.camera
    full_mp = camera.image_width_px * camera.image_height_px * _FULL_MP
    render_per_mp = s.render_s / s.megapixels if s.megapixels else None
    detect_per_mp = s.detect_s / s.megapixels if s.megapixels else None
    full = None
    if render_per_mp is not None and detect_per_mp is not None:
        full = s.frames * full_mp * (render_per_mp + detect_per_mp)
    return {
        "frames_captured": s.frames,
        "views_rendered_and_detected": s.views,
        "megapixels_detected": round(s.megapixels, 1),
        "tiles_detected": s.tiles,
        "render_s_per_megapixel": _r(render_per_mp),
        "detect_s_per_megapixel": _r(detect_per_mp),
        "full_fidelity_frame_megapixels": round(full_mp, 1),
        "full_fidelity_cpu_hours_this_machine": _r(full / 3600.0 if full else None),
        "note": (
            "full fidelity = every captured frame rendered and detected at the camera's "
            "resolution, at this run's measured cost per megapixel (render + detect)"
        ),
    }


def _r(v: float | None, nd: int = 3) -> float | None:
    return None if v is None else round(v, nd)


def report_dict(result: DayResult) -> dict[str, Any]:
    score = result.score
    by_priority = score.table("priority")
    core = next((r for r in by_priority if r["group"] == "core"), None)
    raw = core["recall_within_revisit"] if core else None
    core_recall = float(raw) if isinstance(raw, float) else None
    raw_clued = core["clued_within_revisit"] if core else None
    false_rate = score.false_per_100km2_day()
    cfg = result.config
    return {
        "start": cfg.start.isoformat(),
        "hours": cfg.hours,
        "seed": cfg.seed,
        "fidelity": {
            **result.world.fidelity.describe(),
            "simulated_area_km2": round(result.world.simulated_area_km2, 3),
            "blocks": len(result.world.blocks),
            "frame_sample": "none: every frame over a simulated block goes to the detector",
            "baseline_survey": (
                f"one daylight look at every simulated block at {result.baseline_at.isoformat()}"
                " (the last survey before the day), detected like any frame; it feeds the clue"
                " rules' history and is not scored"
                if result.baseline_at is not None
                else "none: the clue engine starts without history"
            ),
        },
        "model": str(cfg.model),
        "targets": {
            "core_recall_within_revisit": {
                "target": CORE_TARGET,
                "measured": core_recall,
                "met": core_recall is not None and core_recall >= CORE_TARGET,
                "by_active_clue": raw_clued,
            },
            "false_clues_per_100km2_day": {
                "target": FALSE_TARGET,
                "measured": round(false_rate, 2),
                "met": false_rate <= FALSE_TARGET,
                **score.false_rate_bounds(FALSE_TARGET),
            },
        },
        "violations_by_class": score.table("class"),
        "violations_by_priority": by_priority,
        "clues": {
            "by_status": score.clues_by_status,
            "false_active_clues": len(score.false_clues),
            "false_clues_at_ticket_threshold": score.false_count(TicketConfig().threshold),
            "false_tickets_per_100km2_day": round(
                score.false_per_100km2_day(TicketConfig().threshold), 2
            ),
            "tickets_opened": result.tickets,
        },
        "coverage_by_priority": [
            {k: (_r(v) if isinstance(v, float) else v) for k, v in row.items()}
            for row in result.coverage
        ],
        "flights": result.flights.summary(),
        "rapid_response": {
            "requests": len(result.rapid.requests) + len(result.rapid.refused),
            "answered": len(result.rapid.requests),
            "refused": [f"{t.isoformat()}: {why}" for t, why in result.rapid.refused],
            "planner_eta_s": [_r(r.eta_s, 1) for r in result.rapid.requests],
            "launch_delay_s": [_r(d, 1) for _, d in result.flights.rapid],
            "not_launched": [f"{rid}: {why}" for rid, why in result.flights.rapid_failed],
        },
        "schedule": {
            "sorties": len(result.day.ours.sorties),
            "flight_hours_planned": round(result.day.ours.flight_hours, 1),
        },
        "timings_s": {k: round(v, 1) for k, v in result.timings.items()}
        | {
            "of_which_render": round(result.imaging.render_s, 1),
            "of_which_detect": round(result.imaging.detect_s, 1),
            "of_which_flight_records": round(result.imaging.record_s, 1),
        },
        "cost": _cost(result),
        "violations": [_violation_row(r) for r in score.results if r.first_active is not None],
        "false_clues": [_false_clue_row(c) for c in score.false_clues],
    }


def _false_clue_row(c: ClueFact) -> dict[str, Any]:
    """One false clue: what, how confident, when first seen and where (for review)."""
    centre = shapely.centroid(c.geom)
    return {
        "clue_id": c.clue_id,
        "class": c.detection_class,
        "confidence": round(c.confidence, 3),
        "first_seen_at": _iso(c.first_seen_at),
        "lon_lat": [round(centre.x, 6), round(centre.y, 6)],
    }


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def _violation_row(r: ViolationResult) -> dict[str, Any]:
    """One violation of the day: when it was there, imaged, found and clued (for review)."""
    v = r.violation
    return {
        "violation_id": v.violation_id,
        "class": v.label.value,
        "priority": v.priority,
        "block_id": v.block_id,
        "legal": v.legal,
        "preexisting": v.preexisting,
        "night_only": v.night_only,
        "first_active": _iso(r.first_active),
        "gone_at": _iso(v.disappears_at),
        "imaged_at": _iso(r.imaged_at),
        "found_at": _iso(r.found_at),
        "clued_at": _iso(r.clued_at),
        "hours_to_found": _r(r.latency_s / 3600.0 if r.latency_s is not None else None, 2),
    }


def write_report(result: DayResult, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.json"
    path.write_text(json.dumps(report_dict(result), indent=2, default=str))
    return path


def _fmt(v: object) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.2f}"
    return str(v)


def print_report(console: Console, report: dict[str, Any]) -> None:
    cols = [
        "violations",
        "new",
        "imaged_while_active",
        "recall",
        "recall_within_revisit",
        "clued_within_revisit",
        "median_h",
        "p90_h",
        "recall_preexisting",
    ]
    for key, title in (("violations_by_class", "class"), ("violations_by_priority", "priority")):
        table = Table(title=f"Simulated day vs ground truth, by {title}")
        table.add_column(title)
        for c in cols:
            table.add_column(c.replace("_", " "), justify="right")
        for row in report[key]:
            table.add_row(str(row["group"]), *(_fmt(row[c]) for c in cols))
        console.print(table)
    t = report["targets"]
    for name, v in t.items():
        mark = "[green]met[/]" if v["met"] else "[red]missed[/]"
        extra = {k: x for k, x in v.items() if k not in ("measured", "target", "met")}
        console.print(f"{name}: {_fmt(v['measured'])} (target {v['target']}) {mark} {extra}")
    console.print(f"flights: {report['flights']}")
    console.print(f"fidelity: {report['fidelity']}")
    console.print(f"time (s): {report['timings_s']}")
