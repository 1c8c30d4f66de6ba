"""Store and load nests."""

from __future__ import annotations

import dataclasses
from typing import Any

import shapely
from sqlalchemy import Engine, delete, insert, select

from missions.fleet import BatteryMode, CameraSpec, DroneProfile, Nest, NestStatus
from missions.storage.models import NestRow

__all__ = ["load_nests", "save_nests"]


def _profile_from(data: dict[str, Any]) -> DroneProfile:
    fields = dict(data)
    fields["camera"] = CameraSpec(**fields.get("camera", {}))
    return DroneProfile(**fields)


def save_nests(engine: Engine, nests: list[Nest]) -> int:
    """Replace the stored nests."""
    rows = [
        {
            "nest_id": n.nest_id,
            "name": n.name,
            "lon": n.lon,
            "lat": n.lat,
            "ground_elevation_m": n.ground_elevation_m,
            "status": n.status.value,
            "battery_mode": n.battery_mode.value,
            "profile": dataclasses.asdict(n.profile),
            "geom": shapely.Point(n.lon, n.lat),
        }
        for n in nests
    ]
    with engine.begin() as conn:
        conn.execute(delete(NestRow))
        if rows:
            conn.execute(insert(NestRow), rows)
    return len(rows)


def load_nests(engine: Engine) -> list[Nest]:
    with engine.connect() as conn:
        rows = conn.execute(select(NestRow).order_by(NestRow.nest_id)).all()
    return [
        Nest(
            nest_id=r.nest_id,
            name=r.name,
            lon=r.lon,
            lat=r.lat,
            ground_elevation_m=r.ground_elevation_m,
            status=NestStatus(r.status),
            battery_mode=BatteryMode(r.battery_mode),
            profile=_profile_from(r.profile),
        )
        for r in rows
    ]
