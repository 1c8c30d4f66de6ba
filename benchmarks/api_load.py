"""API load benchmark: tickets in a map view, over HTTP, on PostGIS with 100,000 tickets.

Setup (not timed): a fresh PostgreSQL + PostGIS database (NESTPATROL_BENCH_PG_URL, default
postgresql+psycopg://postgres@127.0.0.1/postgres), migrated, with the demo district's boundary
and 16 jurisdictions and N tickets COPYed in: 60 % spread over the district, 40 % in 40 hot spots
(σ 600 m), every workflow status (most closed, as in a running city), 1–3 evidence sightings each.
`nestpatrol serve` (production mode; ``--workers 1,2`` runs the phases once per worker count)
runs in a subprocess on a free loopback port. The load comes from a second process, Locust
(headless, ``FastHttpUser``; rate/2 users, each pacing itself to 2 requests/s with
``constant_throughput``, so the full rate holds while replies take under 500 ms; figures read
from its ``--csv`` statistics).

Measured, each request a dispatcher's viewport (2–8 km wide, 16:10, centred where tickets are:
anywhere in the district or on a hot spot) and one random status,
``GET /api/v1/tickets?bbox=..&status=..`` (limit 200), at each of ``--rates`` (default 20, 100
and 200 requests/s; the highest for ``--seconds``, default 60, the others for
``--latency-seconds``, default 30): achieved rate, errors, p50/p95/p99, and the CPU time per
request of the server and of Locust. Baselines, on the same queries without HTTP: (1) the rows
in SQL alone (``SELECT *``, what the ORM path loaded) with the plan of one and the indexes on
tickets, and (2) the endpoint's own database work (features' JSON written by PostgreSQL, page
wrapped in Python: ``api.tickets.geojson_sql``). Targets (issue 7): p99 < 100 ms; 200
requests/s for 60 s without errors.

Run: .venv/bin/python benchmarks/api_load.py [--tickets 100000 --rates 20,100,200 --seconds 60
--workers 1,2] [--check] (needs the ``bench`` extra: ``pip install -e '.[bench]'``;
``make bench-api`` does both).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import numpy as np
import psutil  # type: ignore[import-untyped]  # no stubs in the bench extra
import shapely
from pyproj import Transformer
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from api.auth.models import Role
from api.auth.security import Principal
from api.auth.service import create_user
from api.tickets.categories import load_category_table
from api.tickets.geojson_sql import TicketListQuery, feature_collection_json
from api.tickets.workflow import TicketStatus
from missions.demo.district import make_demo_district
from missions.geo.crs import wgs84_to_gcj02
from missions.geo.layers import LayerKind
from missions.storage import BBox, make_engine, save_layer, upgrade

PG = os.environ.get("NESTPATROL_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")
HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "api_load_locust.py"
PASSWORD = "bench password, long enough"
LIMIT = 200
P99_TARGET_MS = 100.0
#: share of tickets per status in a city that has run the loop for a while (most are closed)
STATUS_SHARE = {
    TicketStatus.COLLECTED: 0.03,
    TicketStatus.FILED: 0.04,
    TicketStatus.DISPATCHED: 0.08,
    TicketStatus.HANDLED: 0.05,
    TicketStatus.FEEDBACK: 0.04,
    TicketStatus.VERIFIED_CLOSED: 0.30,
    TicketStatus.EVALUATED: 0.34,
    TicketStatus.REJECTED: 0.10,
    TicketStatus.DUPLICATE: 0.02,
}
COLUMNS = (
    "source", "category_key", "major_code", "minor_code", "category_name", "status", "severity",
    "lon", "lat", "gcj_lon", "gcj_lat", "cell_id", "jurisdiction", "description", "evidence",
    "created_at", "updated_at", "sla_deadline", "overdue", "sequence", "geom",
)  # fmt: skip


@dataclass(frozen=True)
class Phase:
    """One Locust run's figures (times in ms, from Locust's aggregated stats)."""

    requests: int
    failures: int
    rate_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    failure_reasons: list[str]
    cpu: dict[str, float]  # per request: CPU ms of server and Locust, PG active ms; see CpuMeter


class CpuMeter:
    """CPU seconds of the server's processes and of Locust, how busy the whole machine was, and
    PostgreSQL's own account of the benchmark database (time its backends were active, sessions
    opened: a pool too small for the concurrency opens and closes connections under load).

    The machine's figure shows how much else (other work on a shared host) competed for the CPUs.
    PostgreSQL's CPU is not metered per process: its backends come and go under load; the active
    time includes waiting for a CPU on a busy host, so it is an upper bound on its CPU.
    """

    def __init__(self, server_pid: int, db: Engine) -> None:
        self.server = psutil.Process(server_pid)
        self.db = db

    def read(self) -> dict[str, float]:
        own = self.server.cpu_times()  # workers that ended (restarted) count once reaped
        server = own.user + own.system + own.children_user + own.children_system
        for proc in self.server.children(recursive=True):
            try:
                t = proc.cpu_times()
            except psutil.Error:  # a worker ended meanwhile
                continue
            server += t.user + t.system
        kids = psutil.Process().cpu_times()  # Locust has ended by the second reading: reaped
        machine = psutil.cpu_times()
        idle = machine.idle + getattr(machine, "iowait", 0.0)
        time.sleep(1.2)  # backends flush their statistics at most once a second
        with self.db.connect() as conn:
            sessions, active_ms = conn.execute(
                text("SELECT sessions, active_time FROM pg_stat_database "
                     "WHERE datname = current_database()")
            ).one()  # fmt: skip
        return {
            "server": server,
            "locust": kids.children_user + kids.children_system,
            "busy": sum(machine) - idle - getattr(machine, "guest", 0.0),
            "wall": time.monotonic(),
            "pg_sessions": float(sessions),
            "pg_active_ms": float(active_ms),
        }

    @staticmethod
    def spent(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
        """Per request: CPU ms (server, locust), PostgreSQL active ms (pg); the machine's busy
        share in % (busy) and the database sessions opened (sessions) over the phase."""
        wall = after["wall"] - before["wall"]
        per = 1000 / max(1, requests)
        return {
            "server": per * (after["server"] - before["server"]),
            "locust": per * (after["locust"] - before["locust"]),
            "pg": (after["pg_active_ms"] - before["pg_active_ms"]) / max(1, requests),
            "sessions": after["pg_sessions"] - before["pg_sessions"],
            "busy": 100 * (after["busy"] - before["busy"]) / (wall * (psutil.cpu_count() or 1)),
        }


# --- the database -------------------------------------------------------------------------------


@contextmanager
def postgis_database() -> Iterator[str]:
    name = f"nestpatrol_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as e:
        first = str(e.orig).strip().splitlines()[0]
        sys.exit(f"api_load: no PostgreSQL server at {PG} ({first}); start one or set "
                 "NESTPATROL_BENCH_PG_URL to a server with PostGIS")  # fmt: skip
    try:
        yield f"{PG.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def ticket_points(area: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """N lon/lat points inside ``area``: 60 % uniform, 40 % around 40 hot spots (σ ≈ 600 m)."""
    minx, miny, maxx, maxy = shapely.bounds(area)
    shapely.prepare(area)
    m_lat = 111_320.0
    m_lon = m_lat * math.cos(math.radians((miny + maxy) / 2))
    spots = np.empty((0, 2))
    while len(spots) < 40:
        cand = rng.uniform((minx, miny), (maxx, maxy), size=(200, 2))
        spots = np.vstack([spots, cand[shapely.contains_xy(area, cand[:, 0], cand[:, 1])]])
    out = np.empty((0, 2))
    while len(out) < n:
        uniform = rng.uniform((minx, miny), (maxx, maxy), size=(n, 2))
        centre = spots[rng.integers(0, 40, size=n)]
        hot = centre + rng.normal(0, 600, size=(n, 2)) / (m_lon, m_lat)
        cand = np.where(rng.random(n)[:, None] < 0.6, uniform, hot)
        out = np.vstack([out, cand[shapely.contains_xy(area, cand[:, 0], cand[:, 1])]])
    return out[:n]


def seed(engine: Engine, n: int, rng: np.random.Generator) -> shapely.Geometry:
    """Migrate, store the demo geography, COPY ``n`` tickets; returns the district (WGS-84)."""
    upgrade(engine)
    demo = make_demo_district()
    save_layer(engine, LayerKind.BOUNDARY, demo.boundary, source="bench")
    save_layer(engine, LayerKind.JURISDICTIONS, demo.jurisdictions, source="bench")
    area: shapely.Geometry = demo.boundary.geometry.union_all()
    pts = ticket_points(area, n, rng)
    juris = demo.jurisdictions
    tree = shapely.STRtree(np.asarray(juris.geometry.values, dtype=object))
    hits = tree.query(shapely.points(pts), predicate="intersects")
    codes = np.full(n, None, dtype=object)
    codes[hits[0]] = juris["code"].to_numpy()[hits[1]]
    glon, glat = wgs84_to_gcj02(pts[:, 0], pts[:, 1])
    east, north = Transformer.from_crs(4326, 32649, always_xy=True).transform(pts[:, 0], pts[:, 1])
    categories = [c for c in load_category_table().categories if c.key != "general_report"]
    statuses = list(STATUS_SHARE)
    status_idx = rng.choice(len(statuses), size=n, p=list(STATUS_SHARE.values()))
    now = datetime.now(UTC)
    ewkb = shapely.to_wkb(shapely.set_srid(shapely.points(pts), 4326), hex=True, include_srid=True)
    raw = engine.raw_connection()
    try:
        cur = raw.driver_connection.cursor()  # type: ignore[union-attr]
        with cur.copy(f"COPY tickets ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for i in range(n):
                cat = categories[i % len(categories)]
                created = now - timedelta(seconds=int(rng.integers(0, 730 * 86400)))
                sightings = [
                    {
                        "sighting_id": 3 * i + k,
                        "observed_at": (created - timedelta(minutes=20 * k)).isoformat(),
                        "score": round(float(rng.uniform(0.6, 0.98)), 3),
                        "source": f"flight-{i // 50:05d}/DJI_{i % 9999:04d}.JPG",
                        "frame_path": f"frames/flight-{i // 50:05d}/DJI_{i % 9999:04d}.JPG",
                        "crop_sha256": secrets.token_hex(32),
                        "crop_path": None,
                    }
                    for k in range(1 + i % 3)
                ]
                copy.write_row((
                    "clue", cat.key, cat.major_code, cat.minor_code, cat.name,
                    statuses[status_idx[i]].value, cat.severity.value,
                    pts[i, 0], pts[i, 1], float(glon[i]), float(glat[i]),
                    f"49N-100-{int(east[i] // 100):06d}-{int(north[i] // 100):06d}", codes[i],
                    f"{cat.name_en or cat.name}: seen {len(sightings)}×", json.dumps(sightings),
                    created, created, created + cat.handling_time_limit, False, 1, ewkb[i],
                ))  # fmt: skip
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE tickets"))
    create_user(engine, username="dispatcher", password=PASSWORD, role=Role.DISPATCHER,
                jurisdictions=[], actor="bench")  # fmt: skip
    return area


def viewport_queries(area: shapely.Geometry, n: int, rng: np.random.Generator) -> list[str]:
    """``n`` list URLs: a 2–8 km wide 16:10 viewport centred like the tickets, one status."""
    centres = ticket_points(area, n, rng)
    lat0 = float(np.mean(centres[:, 1]))
    width_m = rng.uniform(2000, 8000, size=n)
    half_lon = width_m / 2 / (111_320.0 * math.cos(math.radians(lat0)))
    half_lat = width_m / 1.6 / 2 / 111_320.0
    statuses = list(TicketStatus)
    urls = []
    for i in range(n):
        lon, lat = centres[i]
        box = (lon - half_lon[i], lat - half_lat[i], lon + half_lon[i], lat + half_lat[i])
        bbox = ",".join(f"{v:.5f}" for v in box)
        status = statuses[int(rng.integers(0, len(statuses)))].value
        urls.append(
            "/api/v1/tickets?" + urlencode({"bbox": bbox, "status": status, "limit": LIMIT})
        )
    return urls


# --- the SQL baseline ---------------------------------------------------------------------------

LIST_SQL = text(
    "SELECT * FROM tickets WHERE status = :status AND lon BETWEEN :x0 AND :x1 "
    "AND lat BETWEEN :y0 AND :y1 ORDER BY id LIMIT :limit"
)  # what the list endpoint's ORM query compiles to (one status, a bbox)


def query_params(url: str) -> dict[str, object]:
    q = parse_qs(urlsplit(url).query)
    x0, y0, x1, y1 = (float(v) for v in q["bbox"][0].split(","))
    return {"status": q["status"][0], "x0": x0, "x1": x1, "y0": y0, "y1": y1, "limit": LIMIT}


def sql_baseline(engine: Engine, urls: list[str]) -> tuple[float, float, float, list[str]]:
    """p50/p99 ms and mean rows of the same queries in SQL, and one plan (EXPLAIN ANALYZE)."""
    times, rows = [], []
    with engine.connect() as conn:
        for url in urls:
            t = time.perf_counter()
            rows.append(len(conn.execute(LIST_SQL, query_params(url)).all()))
            times.append(1000 * (time.perf_counter() - t))
        plan = [r[0] for r in conn.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + str(LIST_SQL)),
                                           query_params(urls[0]))]  # fmt: skip
    p50, p99 = np.percentile(times, [50, 99])
    return float(p50), float(p99), float(np.mean(rows)), plan


def endpoint_baseline(engine: Engine, urls: list[str]) -> tuple[float, float, float]:
    """p50/p99 ms and mean KiB of the endpoint's own database work: JSON from SQL, page wrap."""
    dispatcher = Principal("bench", Role.DISPATCHER)
    times, sizes = [], []
    for url in urls:
        p = query_params(url)
        q = TicketListQuery(
            principal=dispatcher,
            statuses=(TicketStatus(str(p["status"])),),
            box=BBox(*(float(str(p[k])) for k in ("x0", "y0", "x1", "y1"))),
            limit=LIMIT,
        )
        t = time.perf_counter()
        sizes.append(len(feature_collection_json(engine, q).encode()))
        times.append(1000 * (time.perf_counter() - t))
    p50, p99 = np.percentile(times, [50, 99])
    return float(p50), float(p99), float(np.mean(sizes)) / 1024


# --- the server and the load --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(
    db_url: str, data_dir: Path, workers: int, pool_size: int | None
) -> Iterator[tuple[str, int]]:
    """``nestpatrol serve`` (production mode, ``workers`` processes) on a free loopback port;
    ``pool_size`` sets NESTPATROL_DB_POOL_SIZE (connections kept per process)."""
    port = free_port()
    env = dict(os.environ, NESTPATROL_SECRET_KEY=secrets.token_urlsafe(48),
               NESTPATROL_TOKEN_TTL_S="7200")  # fmt: skip
    if pool_size is not None:
        env["NESTPATROL_DB_POOL_SIZE"] = str(pool_size)
    exe = shutil.which("nestpatrol", path=str(Path(sys.executable).parent)) or "nestpatrol"
    log = (data_dir / "server.log").open("w")
    proc = subprocess.Popen(
        [exe, "serve", "--db", db_url, "--data-dir", str(data_dir), "--port", str(port),
         *(["--workers", str(workers)] if workers > 1 else [])],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:  # healthy, and every worker started (not importing during the first phase)
            if proc.poll() is not None:
                sys.exit(f"api_load: the server exited: {(data_dir / 'server.log').read_text()}")
            started = (data_dir / "server.log").read_text().count("Application startup complete")
            try:
                healthy = httpx.get(base + "/api/v1/health", timeout=1).status_code == 200
            except httpx.TransportError:
                healthy = False
            if healthy and started >= workers:
                break
            if time.monotonic() > deadline:
                sys.exit(f"api_load: {started} of {workers} workers answered within 90 s")
            time.sleep(0.2)
        yield base, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def locust(
    base: str, meter: CpuMeter, token: str, *, queries: Path, rate: float, seconds: int, out: Path
) -> Phase:
    """Drive ``rate`` requests/s for ``seconds`` from a Locust process; its aggregated figures."""
    users = max(4, math.ceil(rate / 2))  # 2 requests/s each: room for 500 ms replies at full rate
    env = dict(os.environ, NESTPATROL_LOAD_TOKEN=token, NESTPATROL_LOAD_QUERIES=str(queries),
               NESTPATROL_LOAD_PER_USER_RPS=str(rate / users))  # fmt: skip
    exe = shutil.which("locust", path=str(Path(sys.executable).parent))
    if exe is None:
        sys.exit("api_load: locust is not installed; run `pip install -e '.[bench]'`")
    prefix = out / f"locust-{int(rate)}rps"
    log = prefix.with_suffix(".log")
    before = meter.read()
    with log.open("w") as sink:
        subprocess.run(
            [exe, "-f", str(LOCUSTFILE), "--headless", "--host", base, "-u", str(users),
             "-r", str(users), "-t", f"{seconds}s", "--csv", str(prefix), "--only-summary",
             "--loglevel", "WARNING", "--stop-timeout", "5"],
            env=env, check=False, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    after = meter.read()
    if not (prefix.parent / f"{prefix.name}_stats.csv").exists():
        sys.exit(f"api_load: locust wrote no statistics:\n{log.read_text()[-3000:]}")
    with (prefix.parent / f"{prefix.name}_stats.csv").open() as f:
        total = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    with (prefix.parent / f"{prefix.name}_failures.csv").open() as f:
        reasons = [f"{r['Occurrences']}× {r['Error']}" for r in csv.DictReader(f)]
    return Phase(
        requests=int(total["Request Count"]),
        failures=int(total["Failure Count"]),
        rate_rps=float(total["Requests/s"]),
        p50_ms=float(total["50%"]),
        p95_ms=float(total["95%"]),
        p99_ms=float(total["99%"]),
        max_ms=float(total["Max Response Time"]),
        failure_reasons=reasons,
        cpu=CpuMeter.spent(before, after, int(total["Request Count"])),
    )


def print_table(phases: list[tuple[str, Phase]]) -> None:
    head = ("requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms")
    print(f"{'phase':<30}" + "".join(f"{h:>9}" for h in head)
          + "   per request: CPU ms server, Locust; PG active ms | PG sessions opened; "
          "machine busy")  # fmt: skip
    for label, ph in phases:
        cells = (ph.requests, ph.failures, f"{ph.rate_rps:.1f}", f"{ph.p50_ms:.0f}",
                 f"{ph.p95_ms:.0f}", f"{ph.p99_ms:.0f}", f"{ph.max_ms:.0f}")  # fmt: skip
        cpu = (f"{ph.cpu['server']:.1f}, {ph.cpu['locust']:.1f}; {ph.cpu['pg']:.1f} | "
               f"{ph.cpu['sessions']:.0f}; {ph.cpu['busy']:.0f} %")  # fmt: skip
        print(f"{label:<30}" + "".join(f"{c:>9}" for c in cells) + f"   {cpu}")
        for reason in ph.failure_reasons:
            print(f"{'':<30}error: {reason}")


def int_list(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def float_list(text: str) -> list[float]:
    return sorted(float(v) for v in text.split(","))


def verdict(runs: dict[int, list[Phase]], rates: list[float]) -> list[str]:
    """Targets missed: p99 < 100 ms at the moderate rate, the top rate held with no errors."""
    misses = []
    for workers, phases in runs.items():
        light, heavy = phases[0], phases[-1]
        if light.p99_ms >= P99_TARGET_MS:
            misses.append(f"{workers} worker(s): p99 at {rates[0]:g}/s is {light.p99_ms:.0f} ms "
                          "(target < 100)")  # fmt: skip
        if heavy.failures or heavy.rate_rps < 0.98 * rates[-1]:
            misses.append(
                f"{workers} worker(s): sustained {heavy.rate_rps:.1f}/s with "
                f"{heavy.failures} errors (target {rates[-1]:g}/s, 0 errors)"
            )
    return misses


def login(base: str, warm_up: list[str]) -> str:
    """A dispatcher's token, after ``warm_up`` requests (first connections, statement caches)."""
    r = httpx.post(base + "/api/v1/auth/login",
                   json={"username": "dispatcher", "password": PASSWORD}, timeout=10)  # fmt: skip
    r.raise_for_status()
    token = str(r.json()["access_token"])
    for url in warm_up:  # a connection each: with several workers, each gets some
        httpx.get(
            base + url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ).raise_for_status()
    return token


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument(
        "--rates",
        type=float_list,
        default=[20.0, 100.0, 200.0],
        help="requests/s, comma-separated; the highest is the sustained target",
    )
    parser.add_argument("--seconds", type=int, default=60, help="length at the highest rate")
    parser.add_argument("--latency-seconds", type=int, default=30, help="at the other rates")
    parser.add_argument(
        "--workers",
        type=int_list,
        default=[1],
        help="`nestpatrol serve --workers`, comma-separated: the phases once per count",
    )
    parser.add_argument(
        "--pool-size",
        type=int,
        default=None,
        help="NESTPATROL_DB_POOL_SIZE for the server [default: the server's own, 5]; "
        "connections beyond it are opened and closed per request under load",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args()


def print_baselines(engine: Engine, urls: list[str]) -> float:
    """What the input is and what the same queries cost without HTTP; the SQL-alone p99."""
    p50, p99, mean_rows, plan = sql_baseline(engine, urls)
    e50, e99, kib = endpoint_baseline(engine, urls)
    with engine.connect() as conn:
        indexes = [
            f"{name} ({definition.split(' USING ')[1]})"
            for name, definition in conn.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tickets'")
            )
        ]
    print(f"input    5,000 viewports (bbox 2–8 km + one status, limit {LIMIT}); the first "
          f"{len(urls)}: {mean_rows:.0f} tickets and {kib:.0f} KiB of GeoJSON per page on "
          "average")  # fmt: skip
    print(f"baseline (1) rows in SQL alone (SELECT *, no HTTP): p50 {p50:.1f} ms, "
          f"p99 {p99:.1f} ms")  # fmt: skip
    print(f"         (2) the endpoint's database work (JSON built in SQL + page wrap, no "
          f"HTTP): p50 {e50:.1f} ms, p99 {e99:.1f} ms")  # fmt: skip
    scans = [ln.strip(" ->") for ln in plan if "Scan" in ln or "Execution Time" in ln]
    print("         plan of the first: " + " | ".join(scans))
    print("         indexes on tickets: " + ", ".join(indexes))
    return p99


def server_trouble(log: Path, workers: int) -> list[str]:
    """Errors and warnings in the server's log, and workers that died (beyond the final stop)."""
    lines = log.read_text().splitlines()
    trouble = [ln for ln in lines if any(w in ln for w in ("ERROR", "Traceback", "WARNING"))]
    restarts = sum("Child process" in ln and "died" in ln for ln in lines) - workers
    if workers > 1 and restarts > 0:
        trouble.append(f"{restarts} worker process(es) died and were restarted")
    return trouble


def print_summary(
    runs: dict[int, list[Phase]], args: argparse.Namespace, sql_p99: float
) -> list[str]:
    """The table, the capacity per worker count and the targets missed."""
    rates: list[float] = args.rates
    print()
    print_table([
        (f"{w} worker(s), {r:g}/s for "
         f"{args.seconds if r == rates[-1] else args.latency_seconds} s", ph)
        for w, phases in runs.items() for r, ph in zip(rates, phases, strict=True)
    ])  # fmt: skip
    for workers, phases in runs.items():
        heavy = phases[-1]
        per_core = 1000 / max(heavy.cpu["server"], 1e-3)
        print(
            f"capacity: {workers} worker(s) spend {heavy.cpu['server']:.1f} ms of server CPU per "
            f"request at {rates[-1]:g}/s: at most ~{per_core:.0f} requests/s per core they get; "
            f"p99 there {heavy.p99_ms:.0f} ms against {sql_p99:.1f} ms for the rows in SQL alone"
        )
        if heavy.cpu["locust"] * heavy.rate_rps > 700:
            print(f"warning: Locust used {heavy.cpu['locust'] * heavy.rate_rps / 10:.0f} % of a "
                  "core: the load tool, not the server, may limit the rate")  # fmt: skip
    misses = verdict(runs, rates)
    print("targets: " + ("met" if not misses else "MISSED — " + "; ".join(misses)))
    return misses


def main() -> int:
    args = parse_args()
    rng = np.random.default_rng(args.seed)
    rates: list[float] = args.rates
    print(f"api_load: {args.tickets:,} tickets on PostGIS; `nestpatrol serve` with "
          f"{', '.join(map(str, args.workers))} worker(s), DB pool "
          f"{args.pool_size or 'default (5)'} per worker; load by Locust (FastHttpUser) in a "
          f"second process on loopback; {os.cpu_count()} CPUs shared by server, PostgreSQL and "
          "load")  # fmt: skip
    runs: dict[int, list[Phase]] = {}
    with postgis_database() as url, tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(url)
        t = time.perf_counter()
        area = seed(engine, args.tickets, rng)
        print(f"setup    migrated + demo geography + {args.tickets:,} tickets COPYed in "
              f"{time.perf_counter() - t:.1f} s")  # fmt: skip
        urls = viewport_queries(area, 5000, rng)
        queries = Path(tmp) / "queries.json"
        queries.write_text(json.dumps(urls))
        sql_p99 = print_baselines(engine, urls[:500])
        for workers in args.workers:
            with server(url, Path(tmp), workers, args.pool_size) as (base, pid):
                token = login(base, urls[-100:])
                meter = CpuMeter(pid, engine)
                phase = partial(locust, base, meter, token, queries=queries, out=Path(tmp))
                runs[workers] = [
                    phase(rate=r, seconds=args.seconds if r == rates[-1] else args.latency_seconds)
                    for r in rates
                ]
            trouble = server_trouble(Path(tmp) / "server.log", workers)
            for line in trouble[:5]:
                print(f"server log ({workers} worker(s), {len(trouble)} such lines): {line}")
        engine.dispose()
    misses = print_summary(runs, args, sql_p99)
    return 1 if misses and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
