"""Planner benchmark on the reference district (Panyu, GCJ-02 boundary in /work/shared/data).

Run: ``.venv/bin/python benchmarks/planner.py [--boundary PATH] [--nests 16]``. Prints the
time to plan and schedule 24 h for the whole district, one sortie's coverage-path time and the
rapid-response query time. Nests are k-means centres of the cell centroids; the core area is
the cells within ``--core-radius-km`` (1.5) of the district's centroid; two synthetic no-fly
zones (one permanent, one active 08:00–12:00 local) stand in for the real ones.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import shapely
from scipy.cluster.vq import kmeans2

from missions.fleet import Nest
from missions.geo.crs import parse_input_crs
from missions.geo.layers import LayerKind
from missions.geo.reader import read_layer
from missions.grid import GridAttributes, assign_attributes, build_grid
from missions.planning.builder import sweep_cost
from missions.planning.cells import CellTable
from missions.planning.coverage import plan_coverage
from missions.planning.fleetplan import FleetPlan, plan_fleet
from missions.planning.frame import MetricFrame
from missions.planning.nofly import NoFlyZone, zones_from_frame
from missions.planning.reach import reach_map
from missions.planning.respond import RapidResponder
from missions.planning.schedule import Policy, Schedule, ScheduleConfig, schedule_day
from missions.planning.schedule_io import report_for

TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_BOUNDARY = Path("/work/shared/data/panyu_district_gcj02.geojson")


def _layers(
    boundary: shapely.Geometry, core_radius_km: float
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    c = shapely.centroid(boundary)
    core = gpd.GeoDataFrame(
        {"name": ["core"], "priority": ["core"]},
        geometry=[shapely.Point(c.x, c.y).buffer(core_radius_km / 111.0)],
        crs=4326,
    )
    nofly = gpd.GeoDataFrame(
        {
            "name": ["permanent", "morning"],
            "floor_m": [None, None],
            "ceiling_m": [None, None],
            "active_from": [None, None],
            "active_to": [None, None],
            "daily_start": [None, "08:00"],
            "daily_end": [None, "12:00"],
        },
        geometry=[
            shapely.Point(c.x + 0.06, c.y + 0.03).buffer(0.01),
            shapely.Point(c.x - 0.05, c.y - 0.04).buffer(0.008),
        ],
        crs=4326,
    )
    return core, nofly


def _district(
    args: argparse.Namespace,
) -> tuple[CellTable, list[Nest], MetricFrame, list[NoFlyZone], int, float, float]:
    """Cells, k-means nests, frame and zones of the district; cell count, area and grid time."""
    boundary = read_layer(
        args.boundary, LayerKind.BOUNDARY, input_crs=parse_input_crs("gcj02"), tz=TZ
    ).frame.geometry.iloc[0]
    core, nofly = _layers(boundary, args.core_radius_km)
    t0 = time.perf_counter()
    grid = build_grid(boundary, cell_size_m=100.0)
    cells = assign_attributes(grid, GridAttributes(priority_areas=core, nofly=nofly))
    t_grid = time.perf_counter() - t0
    frame = MetricFrame(grid.crs)
    table = CellTable.from_frame(cells)
    centres, _ = kmeans2(table.centroids, args.nests, seed=7, minit="++")
    lonlat = frame.to_wgs84(centres)
    nests = [Nest(f"N{i:02d}", float(lo), float(la)) for i, (lo, la) in enumerate(lonlat)]
    zones = zones_from_frame(nofly, grid.crs)
    return table, nests, frame, zones, len(cells), grid.district_area_m2, t_grid


def _our_length_m(lines: tuple[tuple[tuple[float, float], tuple[float, float]], ...]) -> float:
    pts = np.array([p for line in lines for p in line])
    return float(np.sum(np.hypot(*np.diff(pts, axis=0).T)))


def _imaged_fraction(
    area: shapely.Geometry,
    segments: list[tuple[tuple[float, float], tuple[float, float]]],
    across_m: float,
    along_m: float,
) -> float:
    """Share of ``area`` inside the images taken along ``segments`` (nadir footprints)."""
    shots = []
    for a, b in segments:
        d = np.subtract(b, a)
        n = float(np.hypot(*d))
        u = d / n if n > 0 else np.array([1.0, 0.0])
        ext = shapely.LineString([np.subtract(a, u * along_m / 2), np.add(b, u * along_m / 2)])
        shots.append(shapely.buffer(ext, across_m / 2, cap_style="flat"))
    seen = shapely.union_all(shots)
    return float(shapely.area(shapely.intersection(area, seen)) / shapely.area(area))


def _compare_opencoverage(plan: FleetPlan, n_polygons: int = 30) -> None:
    """Side by side with ``opencoverage`` (PyPI) on the same single polygons and camera.

    Only templates whose area is one polygon without holes are used (opencoverage sweeps one
    simple polygon). Path length is the survey path from the first line to the last, without
    the transits to and from the nest, for both.
    """
    try:
        from opencoverage import (  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415
            UAV,
            PinholeCamera,
        )
        from opencoverage import (  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415
            plan as oc_plan,
        )
    except ImportError:
        print("opencoverage not installed (pip install opencoverage): comparison skipped")
        return
    cam = plan.nests[0].profile.camera
    camera = PinholeCamera(
        pixel_size_mm=cam.sensor_width_mm / cam.image_width_px,
        focal_length_mm=cam.focal_length_mm,
        sensor_width_mm=cam.sensor_width_mm,
        sensor_height_mm=cam.sensor_height_mm,
        capture_rate_s=cam.min_trigger_interval_s,
    )
    p = plan.nests[0].profile
    uav = UAV(
        min_height=30.0, max_height=plan.survey.altitude_m, survey_velocity=p.cruise_speed_mps
    )
    cost = sweep_cost(plan.nests[0], plan.survey)
    ours_m = theirs_m = ours_s = theirs_s = 0.0
    ours_seen, theirs_seen = [], []
    fp = plan.survey.footprint
    used = 0
    for i, pk in enumerate(plan.packings):
        for ix in pk.cell_index:
            area = plan.cells.union(ix)
            if (
                used >= n_polygons
                or shapely.get_type_id(area) != 3
                or shapely.get_num_interior_rings(area)
            ):
                continue
            used += 1
            t0 = time.perf_counter()
            path = plan_coverage(area, cost=cost, start=plan.nests_xy[i])
            ours_s += time.perf_counter() - t0
            ours_m += _our_length_m(path.lines)
            ours_seen.append(_imaged_fraction(area, list(path.lines), fp.across_m, fp.along_m))
            t0 = time.perf_counter()
            mission = oc_plan(
                polygon=area,
                uav=uav,
                camera=camera,
                pattern="optimal_sweep",
                lateral_overlap=0.2,
                forward_overlap=0.2,
                target="altitude",
                target_value=plan.survey.altitude_m,
            )
            theirs_s += time.perf_counter() - t0
            theirs_m += uav.estimate_path_distance(mission.path)
            pts = [tuple(q) for q in mission.path]
            segs = list(itertools.pairwise(pts))  # all legs image (generous to them)
            theirs_seen.append(_imaged_fraction(area, segs, fp.across_m, fp.along_m))
    print(
        f"vs opencoverage on {used} sortie polygons: path {ours_m / 1000:.1f} km ours vs "
        f"{theirs_m / 1000:.1f} km theirs; compute {1000 * ours_s / max(used, 1):.1f} ms vs "
        f"{1000 * theirs_s / max(used, 1):.1f} ms per polygon; area imaged (nadir footprints) "
        f"min {min(ours_seen, default=0):.1%} / mean {statistics.mean(ours_seen or [0]):.2%} "
        f"ours vs min {min(theirs_seen, default=0):.1%} / mean "
        f"{statistics.mean(theirs_seen or [0]):.2%} theirs"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boundary", type=Path, default=DEFAULT_BOUNDARY)
    ap.add_argument("--nests", type=int, default=16)
    ap.add_argument("--core-radius-km", type=float, default=1.5)
    args = ap.parse_args()
    table, nests, frame, zones, n_cells, area_m2, t_grid = _district(args)
    t0, c0 = time.perf_counter(), time.process_time()
    plan = plan_fleet(cells=table, nests=nests, frame=frame, zones=zones, tz=TZ)
    t_plan = time.perf_counter() - t0
    cfg = ScheduleConfig(start=datetime(2026, 11, 24, tzinfo=TZ))
    t0 = time.perf_counter()
    ours = schedule_day(plan, config=cfg)
    t_sched = time.perf_counter() - t0
    cpu = time.process_time() - c0
    baseline = schedule_day(plan, config=cfg, policy=Policy.ROUND_ROBIN)
    report = report_for(plan, ours, baseline)

    n_sorties = sum(len(p.sorties) for p in plan.packings)
    print(
        f"district: {n_cells:,} cells ({area_m2 / 1e6:.0f} km²), "
        f"{len(nests)} nests; grid+attributes {t_grid:.1f} s (not the planner's)"
    )
    print(
        f"24 h schedule: {t_plan + t_sched:.1f} s wall ({cpu:.1f} s CPU) = plan (assign+pack "
        f"{n_sorties} "
        f"sortie templates) {t_plan:.1f} s + schedule {t_sched:.1f} s; "
        f"{len(ours.sorties)} sorties, {ours.flight_hours:.0f} flight hours"
    )
    for row in report.table():
        print("  ", row)
    print(
        f"   capacity bound: demand / ideal fleet capacity = {report.bound.ratio:.2f}, "
        f"demand / planned sorties' capacity = {report.bound.planned_ratio:.2f}; "
        f"unplanned cells {len(plan.unplanned_cells)}"
    )

    # one sortie's coverage path: the largest standard template of the busiest nest
    busiest = max(range(len(nests)), key=lambda i: len(plan.packings[i].sorties))
    pk = plan.packings[busiest]
    j = max(range(len(pk.sorties)), key=lambda k: len(pk.cell_index[k]))
    area = table.union(pk.cell_index[j])
    cost = sweep_cost(nests[busiest], plan.survey)
    times, cpus = [], []
    for _ in range(20):
        t0, c0 = time.perf_counter(), time.process_time()
        plan_coverage(area, cost=cost, start=plan.nests_xy[busiest], keep_out=plan.transit.keep_out)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    print(
        f"one sortie's coverage path ({len(pk.cell_index[j])} cells): "
        f"median {1000 * statistics.median(times):.1f} ms wall "
        f"({1000 * statistics.median(cpus):.1f} ms CPU), max {1000 * max(times):.1f} ms"
    )

    _bench_respond(plan, ours, table, frame)
    _compare_opencoverage(plan)
    t0 = time.perf_counter()
    reach = reach_map(plan)
    lon, lat = reach.candidate_lonlat or (float("nan"), float("nan"))
    print(
        f"reach map ({time.perf_counter() - t0:.1f} s): within {reach.target_s:.0f} s "
        f"district {reach.district_fraction:.1%}, core {reach.core_fraction:.1%}; one more nest at "
        f"({lon:.5f}, {lat:.5f}) → {reach.district_fraction_with_candidate:.1%} / "
        f"{reach.core_fraction_with_candidate:.1%}"
    )


def _bench_respond(plan: FleetPlan, ours: Schedule, table: CellTable, frame: MetricFrame) -> None:
    responder = RapidResponder(plan, sorties=ours.sorties)
    rng = np.random.default_rng(1)
    pts = table.centroids[rng.integers(0, len(table), 200)]
    ll = frame.to_wgs84(pts)
    when = datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
    responder.respond(lon=float(ll[0, 0]), lat=float(ll[0, 1]), at=when)  # warm the caches
    times, cpus = [], []
    for lon, lat in ll:
        t0, c0 = time.perf_counter(), time.process_time()
        responder.respond(lon=float(lon), lat=float(lat), at=when)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    print(
        f"rapid response: median {1000 * statistics.median(times):.1f} ms wall "
        f"({1000 * statistics.median(cpus):.1f} ms CPU), "
        f"p95 {1000 * float(np.percentile(times, 95)):.1f} ms over {len(times)} queries"
    )


if __name__ == "__main__":
    main()
