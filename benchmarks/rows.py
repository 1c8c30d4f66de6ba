"""Bytes per row (heap + TOAST + indexes) on PostGIS for the tables that grow every day.

Inserts N frames (footprint polygons of a 20 MP nadir frame at ~3.5 cm/px), N cell sightings and
T tickets (each with its transition row and outbox event, through the real service), VACUUM
ANALYZE, then reads pg_relation_size / pg_indexes_size / pg_total_relation_size per table.

Run: .venv/bin/python benchmarks/rows.py [--frames 20000] [--tickets 2000]
"""

from __future__ import annotations

import argparse
import math
import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import shapely
from sqlalchemy import create_engine, insert, text

from api.tickets import service as tickets
from api.tickets.categories import load_category_table
from api.tickets.locate import Location
from api.tickets.models import TicketSource
from missions.storage import make_engine, session_scope, upgrade
from patrol.storage.models import CellSighting, Flight, Frame

PG = os.environ.get("NESTPATROL_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")
LON0, LAT0 = 113.38, 22.94
M_LAT = 111_320.0
M_LON = M_LAT * math.cos(math.radians(LAT0))
TABLES = ["frames", "cell_sightings", "tickets", "ticket_transitions", "outbox_events", "flights"]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--frames", type=int, default=20_000)
    p.add_argument("--tickets", type=int, default=2_000)
    args = p.parse_args()
    name = f"nestpatrol_rows_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = make_engine(f"{PG.rsplit('/', 1)[0]}/{name}")
        upgrade(engine)
        _fill(engine, args.frames, args.tickets)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
            head = ("table", "rows", "heap+toast B/row", "index B/row", "total B/row")
            print(f"{head[0]:20} {head[1]:>8} {head[2]:>17} {head[3]:>12} {head[4]:>12}")
            for table in TABLES:
                rows = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                total, idx = conn.execute(
                    text("SELECT pg_total_relation_size(:t), pg_indexes_size(:t)"), {"t": table}
                ).one()
                if rows:
                    heap, per_idx, per_all = (total - idx) / rows, idx / rows, total / rows
                    print(f"{table:20} {rows:8d} {heap:17.0f} {per_idx:12.0f} {per_all:12.0f}")
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _fill(engine, n_frames: int, n_tickets: int) -> None:  # type: ignore[no-untyped-def]
    t0 = datetime(2026, 11, 23, tzinfo=UTC)
    per_flight = 250
    flights = [
        {
            "flight_id": f"f-{i:06d}",
            "nest_id": "nest-01",
            "sortie_id": f"s-{i:06d}",
            "started_at": t0,
            "ended_at": t0 + timedelta(minutes=30),
            "outcome": "completed",
            "battery_used_fraction": 0.7,
            "track": shapely.LineString([(LON0, LAT0), (LON0 + 0.02, LAT0 + 0.01), (LON0, LAT0)]),
            "track_times": [0.0, 900.0, 1800.0],
            "extra": None,
        }
        for i in range(math.ceil(n_frames / per_flight))
    ]
    w, h = 191.5 / M_LON, 127.7 / M_LAT  # 5472 × 3648 px at 3.5 cm/px
    frames, sightings = [], []
    for i in range(n_frames):
        x, y = LON0 + (i % 200) * w * 0.8, LAT0 + (i // 200) * h * 0.8
        fid = flights[i // per_flight]["flight_id"]
        frames.append(
            {
                "frame_id": f"{fid}-{i:06d}",
                "flight_id": fid,
                "taken_at": t0 + timedelta(seconds=i),
                "lon": x + w / 2,
                "lat": y + h / 2,
                "alt_m": 110.0,
                "image_path": f"imagery/2026/11/23/{fid}/DJI_{i:04d}.JPG",
                "geom": shapely.box(x, y, x + w, y + h),
            }
        )
        sightings.append(
            {
                "cell_id": f"49N-100-{7421 + i % 500:06d}-{25415 + i // 500:06d}",
                "flight_id": fid,
                "seen_at": t0 + timedelta(seconds=i),
                "fraction": 0.97,
            }
        )
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(Flight), flights)
        for k in range(0, n_frames, 5000):
            conn.execute(insert(Frame), frames[k : k + 5000])
            conn.execute(insert(CellSighting), sightings[k : k + 5000])
    print(
        f"inserted {len(flights)} flights, {n_frames} frames, {n_frames} sightings in "
        f"{time.perf_counter() - started:.1f} s"
    )
    category = load_category_table().get("general_report")
    started = time.perf_counter()
    for k in range(0, n_tickets, 500):
        specs = [
            tickets.TicketSpec(
                source=TicketSource.OPEN311,
                category=category,
                lon=LON0 + i * 1e-4,
                lat=LAT0,
                location=Location(None, "J-W"),
                description=f"report {i}: dumped construction waste",
            )
            for i in range(k, min(n_tickets, k + 500))
        ]
        with session_scope(engine) as s:
            tickets.create_tickets(s, specs=specs, actor="bench", now=datetime.now(UTC))
    print(f"created {n_tickets} tickets in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
