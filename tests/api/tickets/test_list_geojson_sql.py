"""The ticket list's database-built GeoJSON equals the ORM path it replaced, on both backends.

The reference below is the list endpoint as it was before ``api.tickets.geojson_sql``: its own
query (scoping, filters, keyset page), ORM rows, ``TicketRead`` via ``views._feature`` and
``json.dumps``. Tickets come from a seeded generator with full-precision coordinates, times
with and without microseconds, every status, and awkward text and evidence.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api.auth.models import Role
from api.auth.security import Principal
from api.auth.service import create_user
from api.http.app import create_app
from api.http.pagination import decode_id_cursor, encode_cursor
from api.tickets import service as tickets
from api.tickets.categories import load_category_table
from api.tickets.geojson_sql import TicketListQuery, feature_collection_json
from api.tickets.locate import Location
from api.tickets.models import TicketRow, TicketSource
from api.tickets.views import _feature
from api.tickets.workflow import TicketStatus
from missions.settings import Settings
from missions.storage import BBox, session_scope

N_TICKETS = 40
T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
DISPATCHER = Principal("disp", Role.DISPATCHER)
OFFICERS = [
    Principal("officer-a", Role.OFFICER, ("A",)),
    Principal("officer-ab", Role.OFFICER, ("A", "B")),
    Principal("officer-none", Role.OFFICER, ()),
]
BOX = BBox(113.30, 22.90, 113.35, 22.95)


def seed_tickets(engine: Engine, seed: int = 11) -> None:
    """``N_TICKETS`` varied tickets (ids in creation order)."""
    rng = np.random.default_rng(seed)
    category = load_category_table().get("general_report")
    codes = ["A", "B", None]
    nested: dict[str, Any] = {"nested": {"list": [1, 2.5, None, True], "text": "é"}}
    evidence: list[list[dict[str, Any]]] = [
        [
            {"sighting_id": i, "score": float(rng.random()), "source": f"DJI_{i:04d}.JPG"},
            nested | {"crop_path": None},
        ][: 1 + i % 2]
        for i in range(N_TICKETS)
    ]
    specs = [
        tickets.TicketSpec(
            source=TicketSource.OPEN311,
            category=category,
            lon=113.3 + 0.1 * float(rng.random()),
            lat=22.9 + 0.1 * float(rng.random()),
            location=Location(None, codes[i % 3]),
            description=f'r{i} "quoted" \\ back\nslash — 违章搭建 \u2028 {{json}}',
            evidence=evidence[i],
        )
        for i in range(N_TICKETS)
    ]
    statuses = list(TicketStatus)
    with session_scope(engine) as s:
        rows = tickets.create_tickets(s, specs=specs, actor="t", now=T0)
        for i, row in enumerate(rows):
            row.status = statuses[i % len(statuses)].value
            row.overdue = i % 4 == 0
            micro = 0 if i % 3 == 0 else int(rng.integers(1, 999_999))
            row.created_at = T0 + timedelta(minutes=i, microseconds=micro)
            row.updated_at = row.created_at + timedelta(seconds=i)
            row.gcj_lon = row.lon + 0.005 + 1e-9 * float(rng.random())
            if i % 5 == 1:
                row.reject_reason = "blue tarp"
            if i % 7 == 2:
                row.duplicate_of = rows[0].id
            if i == 3:
                row.lon = 113.30000000000001  # 17 significant digits
                row.cell_id = None


def orm_page(engine: Engine, q: TicketListQuery) -> dict[str, Any]:
    """The list endpoint's body as it was built before the database wrote the JSON."""
    query = select(TicketRow).order_by(TicketRow.id).limit(q.limit)
    if q.principal.role is Role.OFFICER:
        query = query.where(TicketRow.jurisdiction.in_(list(q.principal.jurisdictions)))
    if q.statuses:
        query = query.where(TicketRow.status.in_([s.value for s in q.statuses]))
    if q.jurisdiction is not None:
        query = query.where(TicketRow.jurisdiction == q.jurisdiction)
    if q.overdue is not None:
        query = query.where(TicketRow.overdue.is_(q.overdue))
    if q.box is not None:
        query = query.where(
            TicketRow.lon.between(q.box.min_lon, q.box.max_lon),
            TicketRow.lat.between(q.box.min_lat, q.box.max_lat),
        )
    if q.after_id is not None:
        query = query.where(TicketRow.id > q.after_id)
    with Session(engine) as session:
        rows = list(session.scalars(query))
        features = [_feature(r) for r in rows]
    next_cursor = encode_cursor(str(rows[-1].id)) if len(rows) == q.limit else None
    body = {"type": "FeatureCollection", "features": features, "next_cursor": next_cursor}
    parsed: dict[str, Any] = json.loads(json.dumps(body))
    return parsed


QUERIES = [
    {},
    {"statuses": (TicketStatus.DISPATCHED, TicketStatus.EVALUATED)},
    {"jurisdiction": "B"},
    {"overdue": True},
    {"overdue": False, "statuses": (TicketStatus.REJECTED,)},
    {"box": BOX},
    {"box": BOX, "statuses": (TicketStatus.COLLECTED,), "limit": 1},
    {"box": BBox(0.0, 0.0, 1.0, 1.0)},
    {"limit": 1000},
]


@pytest.mark.parametrize("principal", [DISPATCHER, *OFFICERS], ids=lambda p: p.name)
def test_database_json_equals_the_orm_path(engine: Engine, principal: Principal) -> None:
    seed_tickets(engine)
    for kwargs in QUERIES:
        q = TicketListQuery(principal=principal, **kwargs)  # type: ignore[arg-type]
        got = json.loads(feature_collection_json(engine, q))
        assert got == orm_page(engine, q), kwargs
        assert list(got) == ["type", "features", "next_cursor"]
        keys = [list(f["properties"]) for f in got["features"]]
        assert all(k == keys[0] for k in keys), "properties in one order"


@pytest.mark.parametrize("principal", [DISPATCHER, OFFICERS[1]], ids=lambda p: p.name)
def test_keyset_pages_and_cursors_are_the_same(engine: Engine, principal: Principal) -> None:
    seed_tickets(engine)
    after, pages, seen = None, 0, []
    while True:
        q = TicketListQuery(principal=principal, limit=3, after_id=after)
        got = json.loads(feature_collection_json(engine, q))
        assert got == orm_page(engine, q)
        seen += [f["id"] for f in got["features"]]
        pages += 1
        if got["next_cursor"] is None:
            break
        after = decode_id_cursor(got["next_cursor"])
    in_a_or_b = sum(1 for i in range(N_TICKETS) if i % 3 != 2)  # jurisdictions A, B, None
    expected = N_TICKETS if principal.role is Role.DISPATCHER else in_a_or_b
    assert len(seen) == len(set(seen)) == expected
    assert seen == sorted(seen)
    assert pages == expected // 3 + 1


def test_exact_values_survive(engine: Engine) -> None:
    """Spot checks the comparison cannot miss: 17-digit floats, times, booleans, JSON."""
    seed_tickets(engine)
    got = json.loads(feature_collection_json(engine, TicketListQuery(DISPATCHER, limit=5)))
    props = [f["properties"] for f in got["features"]]
    assert props[3]["lon"] == 113.30000000000001
    assert got["features"][3]["geometry"]["coordinates"][0] == 113.30000000000001
    assert props[0]["created_at"] == "2026-03-04T05:06:07Z"  # no microseconds: none written
    assert len(props[1]["created_at"]) == len("2026-03-04T05:07:07.123456Z")
    assert props[0]["overdue"] is True
    assert props[1]["overdue"] is False
    assert props[1]["evidence"][1]["nested"] == {"list": [1, 2.5, None, True], "text": "é"}
    assert props[0]["open311_status"] == "open"


def test_endpoint_serves_the_database_json(engine: Engine, db_url_of: str) -> None:
    seed_tickets(engine)
    create_user(engine, username="disp", password="a long enough password", role=Role.DISPATCHER,
                jurisdictions=[], actor="t")  # fmt: skip
    app = create_app(Settings(database_url=db_url_of, dev_mode=True))
    try:
        with TestClient(app) as client:
            token = client.post(
                "/api/v1/auth/login",
                json={"username": "disp", "password": "a long enough password"},
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            params = {"bbox": "113.30,22.90,113.35,22.95", "status": ["filed", "handled"]}
            r = client.get("/api/v1/tickets", params=params | {"limit": 2}, headers=headers)
            assert r.status_code == 200
            assert r.headers["content-type"] == "application/geo+json"
            q = TicketListQuery(
                DISPATCHER,
                statuses=(TicketStatus.FILED, TicketStatus.HANDLED),
                box=BOX,
                limit=2,
            )
            assert r.json() == orm_page(engine, q)
            bad = {
                "bbox=1,2,3": 400,
                "cursor=not-a-cursor": 400,
                "limit=0": 422,
                "status=nope": 422,
            }
            for query, code in bad.items():
                r = client.get(f"/api/v1/tickets?{query}", headers=headers)
                assert r.status_code == code, query
                assert r.headers["content-type"].startswith("application/problem+json")
            assert client.get("/api/v1/tickets").status_code == 401
            spec = client.get("/openapi.json").json()["paths"]["/api/v1/tickets"]["get"]
            assert "application/geo+json" in spec["responses"]["200"]["content"]
    finally:
        app.state.engine.dispose()


@pytest.fixture
def db_url_of(engine: Engine) -> str:
    """The URL of the module's database (the app opens its own engine on it)."""
    return engine.url.render_as_string(hide_password=False)
