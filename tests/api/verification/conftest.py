"""Verification fixtures: the small two-jurisdiction district with one nest west of its centre,
and tickets at metre offsets from the district's origin, already moved to ``handled``."""

from __future__ import annotations

import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from api.clues import ClueConfig, Detection, ingest_detections
from api.tickets import service as tickets
from api.tickets.flows import TicketConfig, promote_clues
from api.tickets.workflow import TicketStatus
from missions.fleet import Nest
from missions.storage import save_nests, session_scope

from ..clues.conftest import LAT0, LON0, M_PER_DEG_LAT, feature
from ..tickets.conftest import T0, engine, load_small_district, make_active_clues, module_engine

__all__ = ["LAT0", "LON0", "T0", "engine", "feature", "module_engine"]

HANDLED_AT = T0 + timedelta(hours=1)  # 11:00 in Guangzhou: daytime
NEST_OFFSET_M = -400.0


def lonlat(dx_m: float, dy_m: float = 0.0) -> tuple[float, float]:
    m_lon = M_PER_DEG_LAT * math.cos(math.radians(LAT0))
    return LON0 + dx_m / m_lon, LAT0 + dy_m / M_PER_DEG_LAT


def nest() -> Nest:
    lon, lat = lonlat(NEST_OFFSET_M)
    return Nest(nest_id="nest-w", lon=lon, lat=lat, ground_elevation_m=10.0)


@pytest.fixture
def fleet(engine: Engine) -> Engine:
    """The district, its grid and one nest 400 m west of the origin."""
    load_small_district(engine)
    save_nests(engine, [nest()])
    return engine


def handled_ticket(engine: Engine, dx_m: float, cls: str = "construction_waste") -> int:
    """A clue ticket ``dx_m`` east of the origin, walked to ``handled`` by an officer.

    Activity classes are seen at night (23:30 local), so that they make a ticket at all.
    """
    if cls in ("construction_machinery", "muck_truck"):
        night = feature(cls, "2026-11-22T15:30:00Z", dx_m, 0.0, score=0.8, source="night")
        ingest_detections(engine, detections=[Detection.from_geojson_feature(night)],
                          config=ClueConfig(baseline_on_first_observation=False))  # fmt: skip
    else:
        make_active_clues(engine, [dx_m], cls=cls)
    (tid,) = promote_clues(engine, config=TicketConfig(), now=T0)
    with session_scope(engine) as s:
        for step in (TicketStatus.FILED, TicketStatus.DISPATCHED):
            tickets.transition(s, ticket_id=tid, to=step, actor="disp", now=T0)
        tickets.transition(
            s, ticket_id=tid, to=TicketStatus.HANDLED, actor="officer:li", now=HANDLED_AT
        )
    return tid


def detections_file(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path
