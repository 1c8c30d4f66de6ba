"""Grid benchmark: build + store the shared district's unit grid at 100 m and 50 m.

Input: ../shared/data/panyu_district_gcj02.geojson (or the packaged copy), GCJ-02 → WGS-84.
Baseline: the same clipping done the obvious way — one shapely intersection per candidate square
in a Python loop — on the 100 m grid. Backends: a fresh SQLite file, and PostgreSQL + PostGIS
when reachable (NESTPATROL_BENCH_PG_URL, default postgresql+psycopg://postgres@127.0.0.1/postgres).

Run: .venv/bin/python benchmarks/grid.py
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from missions.demo.district import demo_boundary_path
from missions.geo.crs import parse_input_crs
from missions.geo.layers import LayerKind
from missions.geo.reader import read_layer
from missions.grid import GridAttributes, assign_attributes, build_grid, to_metric
from missions.storage import make_engine, save_grid, upgrade

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "panyu_district_gcj02.geojson"
PG = os.environ.get("NESTPATROL_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")


def boundary() -> tuple[shapely.Geometry, Path]:
    path = SHARED if SHARED.exists() else demo_boundary_path()
    layer = read_layer(
        path, LayerKind.BOUNDARY, input_crs=parse_input_crs("gcj02"), tz=ZoneInfo("UTC")
    )
    return layer.frame.geometry.union_all(), path


def naive_loop(b: shapely.Geometry, size: float) -> tuple[int, float]:
    """Baseline: a Python loop of per-square intersections (no vectorisation, no pre-clipping)."""
    grid = build_grid(b, size)  # only for its CRS
    metric = to_metric(np.array([b], dtype=object), grid.crs)[0]
    minx, miny, maxx, maxy = metric.bounds
    t = time.perf_counter()
    n = 0
    for col in range(int(minx // size), int(maxx // size) + 1):
        for row in range(int(miny // size), int(maxy // size) + 1):
            piece = shapely.box(
                col * size, row * size, (col + 1) * size, (row + 1) * size
            ).intersection(metric)
            if not piece.is_empty and piece.area > 1e-6:
                n += 1
    return n, time.perf_counter() - t


def timed_build_store(b: shapely.Geometry, size: float, url: str) -> tuple[int, float, float]:
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.perf_counter()
    grid = build_grid(b, size)
    cells = assign_attributes(grid, GridAttributes())
    t1 = time.perf_counter()
    save_grid(engine, grid, cells)
    t2 = time.perf_counter()
    engine.dispose()
    return len(cells), t1 - t0, t2 - t1


def postgis_url() -> tuple[str | None, str]:
    name = f"nestpatrol_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except OperationalError as e:
        return None, f"PostGIS skipped: {str(e.orig).strip().splitlines()[0]}"
    return PG.rsplit("/", 1)[0] + "/" + name, name


def drop(name: str) -> None:
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    b, path = boundary()
    print(f"input: {path} (GCJ-02 → WGS-84), machine: {os.cpu_count()} CPUs")
    print(
        f"{'backend':<8} {'cell':>5} {'cells':>8} {'build s':>8} {'store s':>8} "
        f"{'total s':>8} target"
    )
    targets = {100.0: 10.0, 50.0: 40.0}
    backends: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        backends.append(("sqlite", f"sqlite:///{tmp}/bench.db"))
        pg, note = postgis_url()
        if pg:
            backends.append(("postgis", pg))
        for label, url in backends:
            for size, target in targets.items():
                n, build_s, store_s = timed_build_store(b, size, url)
                total = build_s + store_s
                ok = "ok" if total < target else "MISSED"
                print(
                    f"{label:<8} {size:>5g} {n:>8,} {build_s:>8.2f} {store_s:>8.2f} "
                    f"{total:>8.2f} < {target:g} s {ok}"
                )
        if pg:
            drop(note)
        else:
            print(note)
    t = time.perf_counter()
    build_grid(b, 100.0)
    ours = time.perf_counter() - t
    n, loop_s = naive_loop(b, 100.0)
    print(
        f"baseline (per-square Python loop, 100 m, clip only): {n:,} pieces in {loop_s:.2f} s; "
        f"ours (clip + slivers + ids) {ours:.2f} s → {loop_s / ours:.1f}× faster"
    )


if __name__ == "__main__":
    main()
