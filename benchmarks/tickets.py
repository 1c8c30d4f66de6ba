"""Tickets benchmark: 1,000 clues → tickets → signed webhooks delivered to a local receiver.

Setup (not timed): a migrated database with a 5 km × 5 km grid of 100 m cells in two
jurisdictions, and 1,000 detections of dumped waste 60 m apart ingested into 1,000 active clues
(the ingest is timed and reported separately). Timed: opening the 1,000 tickets (cell and
jurisdiction lookup, GCJ-02, audit row and outbox event each, one transaction) and one delivery
worker posting every event to a real HTTP receiver on loopback that verifies the signature and
dedupes on webhook-id. Target: < 10 s on SQLite. Backends: a fresh SQLite file, and PostgreSQL +
PostGIS when reachable (NESTPATROL_BENCH_PG_URL, default postgresql+psycopg://postgres@127.0.0.1/postgres).

Run: .venv/bin/python benchmarks/tickets.py
"""

from __future__ import annotations

import math
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import shapely
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from api.clues import ClueConfig, Detection, DetectionClass, ingest_detections
from api.dispatch import service as dispatch
from api.dispatch.config import DeliveryConfig
from api.dispatch.receiver import LoopbackReceiver
from api.dispatch.signing import new_secret
from api.dispatch.worker import DeliveryWorker
from api.tickets.flows import TicketConfig, promote_clues
from missions.geo.crs import WGS84
from missions.geo.layers import LayerKind
from missions.grid import GridAttributes, assign_attributes, build_grid
from missions.storage import make_engine, save_grid, save_layer, session_scope, upgrade

PG = os.environ.get("NESTPATROL_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")
N = 1000
LON0, LAT0 = 113.36, 22.92
M_LAT = 111_320.0
M_LON = M_LAT * math.cos(math.radians(LAT0))


def box_m(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(LON0 + x0 / M_LON, LAT0 + y0 / M_LAT, LON0 + x1 / M_LON, LAT0 + y1 / M_LAT)


def setup_geography(engine: Engine) -> None:
    west, east = box_m(0, 0, 2500, 5000), box_m(2500, 0, 5000, 5000)
    juris = gpd.GeoDataFrame(
        {
            "code": ["J-W", "J-E"],
            "name": ["West", "East"],
            "level": ["town", "town"],
            "dispatch_contact": [None, None],
            "illustrative": [True, True],
        },
        geometry=[west, east],
        crs=WGS84,
    )
    save_layer(engine, LayerKind.JURISDICTIONS, juris, source="bench")
    grid = build_grid(box_m(0, 0, 5000, 5000), 100)
    save_grid(engine, grid, assign_attributes(grid, GridAttributes(jurisdictions=juris)))


def detections() -> list[Detection]:
    at = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    side = math.ceil(math.sqrt(N))
    return [
        Detection(
            DetectionClass.CONSTRUCTION_WASTE,
            0.8,
            f"frame-{i}",
            at,
            box_m(
                100 + 60 * (i % side),
                100 + 60 * (i // side),
                106 + 60 * (i % side),
                106 + 60 * (i // side),
            ),
        )
        for i in range(N)
    ]


def run(engine: Engine, label: str) -> None:
    upgrade(engine)
    setup_geography(engine)
    t = time.perf_counter()
    report = ingest_detections(engine, detections=detections(), config=ClueConfig())
    ingest_s = time.perf_counter() - t
    secret = new_secret()
    receiver = LoopbackReceiver(secret)
    receiver.start()
    with session_scope(engine) as s:
        dispatch.set_endpoint(s, jurisdiction="*", url=receiver.url, secret=secret,
                              now=datetime.now(UTC))  # fmt: skip
    worker = DeliveryWorker(engine, config=DeliveryConfig(batch_size=100, idle_sleep_s=0.01))
    try:
        t0 = time.perf_counter()
        ids = promote_clues(engine, config=TicketConfig())
        t1 = time.perf_counter()
        stats = worker.run(until_idle=True)
        t2 = time.perf_counter()
    finally:
        worker.close()
        receiver.stop()
    unique = len(receiver.counts.processed)
    ok = len(ids) == N and stats.delivered == N and unique == N
    print(
        f"{label:8s} ingest {report.clues_created} clues {ingest_s:6.2f} s | tickets {len(ids)} "
        f"{t1 - t0:5.2f} s | delivered {stats.delivered} (receiver unique {unique}) "
        f"{t2 - t1:5.2f} s | clues→tickets→delivered {t2 - t0:5.2f} s "
        f"{'OK' if ok else 'INCOMPLETE'}"
    )


@contextmanager
def postgis() -> Iterator[Engine | None]:
    name = f"nestpatrol_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as e:
        print(f"postgis  skipped: no server at {PG} ({str(e.orig).strip().splitlines()[0]})")
        yield None
        return
    engine = make_engine(f"{PG.rsplit('/', 1)[0]}/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        run(engine, "sqlite")
        engine.dispose()
    with postgis() as pg:
        if pg is not None:
            run(pg, "postgis")


if __name__ == "__main__":
    main()
